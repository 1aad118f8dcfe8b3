"""C2SP signed notes: the reference key and note of the Go implementation, byte for byte, and the
verification rules of the spec (unknown keys ignored, a bad known signature rejects the note)."""

from __future__ import annotations

import pytest

from shadan.audit.note import (
    NoteError,
    NoteVerificationError,
    Signer,
    Verifier,
    key_id,
    parse_note,
    sign_note,
    verify_note,
)

VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
SIGNATURE = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
NOTE = TEXT + "\n" + SIGNATURE


def test_reference_keys_parse_and_their_id_is_the_spec_hash() -> None:
    verifier = Verifier.parse(VKEY)
    assert verifier.key_id == 0xC74F20A3 == key_id("PeterNeumann", verifier.public_key)
    assert verifier.text() == VKEY
    assert Signer.parse(SKEY).verifier == verifier
    assert Signer.parse(SKEY).secret_text() == SKEY + "\n"


def test_signing_reproduces_the_reference_note() -> None:
    # Ed25519 is deterministic (RFC 8032): the same key and text give the published signature.
    assert sign_note(TEXT, [Signer.parse(SKEY)]).render() == NOTE


def test_reference_note_verifies_and_a_changed_text_does_not() -> None:
    verifier = Verifier.parse(VKEY)
    assert verify_note(parse_note(NOTE), [verifier]) == (verifier,)
    with pytest.raises(NoteVerificationError):
        verify_note(parse_note(NOTE.replace("cryptography", "cryptographY")), [verifier])


def test_unknown_keys_are_ignored_but_one_known_key_must_sign() -> None:
    stranger = Signer.generate("witness.example/w1")
    note = sign_note(TEXT, [Signer.parse(SKEY), stranger])
    parsed = parse_note(note.render())
    assert verify_note(parsed, [Verifier.parse(VKEY)]) == (Verifier.parse(VKEY),)
    assert set(verify_note(parsed, [Verifier.parse(VKEY), stranger.verifier])) == {
        Verifier.parse(VKEY),
        stranger.verifier,
    }
    with pytest.raises(NoteVerificationError, match="not signed by any trusted key"):
        verify_note(parse_note(sign_note(TEXT, [stranger]).render()), [Verifier.parse(VKEY)])


def test_a_key_with_the_same_name_but_another_id_is_not_trusted() -> None:
    impostor = Signer.generate("PeterNeumann")
    with pytest.raises(NoteVerificationError):
        verify_note(parse_note(sign_note(TEXT, [impostor]).render()), [Verifier.parse(VKEY)])


def test_a_failing_signature_of_a_known_key_rejects_the_note() -> None:
    signer = Signer.parse(SKEY)
    forged = sign_note(TEXT, [signer]).render().replace("KE6Ryy", "KE6Ryz")
    with pytest.raises(NoteVerificationError, match="does not verify"):
        verify_note(parse_note(forged), [signer.verifier])


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not lowercase
        "PeterNeumann+c74f20a3+AhpcmQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not type 0x01
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in the name
        "PeterNeumann+c74f20a3",
        "",
    ],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(bad)


@pytest.mark.parametrize(
    "bad",
    [
        TEXT + SIGNATURE,  # no blank line
        NOTE.rstrip("\n"),  # no final newline
        TEXT + "\n" + SIGNATURE.replace("— ", "- "),  # not an em dash
        TEXT + "\n" + SIGNATURE.replace("x08go/", "x08go!"),  # not base64
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # too short
        TEXT.replace("If", "I\x01f") + "\n" + SIGNATURE,  # control character
        "\xff".encode("latin-1"),  # not UTF-8
        TEXT + "\n" + SIGNATURE * 101,  # too many signatures
    ],
)
def test_malformed_notes_are_refused(bad: str | bytes) -> None:
    with pytest.raises(NoteError):
        parse_note(bad)


def test_a_note_may_contain_blank_lines_and_splits_at_the_last_one() -> None:
    text = "first\n\nsecond\n"
    signer = Signer.generate("example.org/log")
    parsed = parse_note(sign_note(text, [signer]).render())
    assert parsed.text == text
    verify_note(parsed, [signer.verifier])


def test_the_private_key_never_shows_in_repr() -> None:
    signer = Signer.parse(SKEY)
    assert "AYEKFALV" not in repr(signer)
    assert "AYEKFALV" not in str(signer)
