"""C2SP tlog-cosignature (cosignature/v1, Ed25519): vectors made by another implementation verify here,
the signed message is exactly the spec's, and a wrong key, a changed timestamp or a changed checkpoint
is refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shadan.audit.cosignature import (
    COSIGNATURE_V1,
    Cosignature,
    CosignatureError,
    Cosigner,
    cosignatures_by,
    verify_cosignature,
    witness_verifier,
)
from shadan.audit.note import (
    NoteError,
    NoteSignature,
    NoteVerificationError,
    Signer,
    Verifier,
    key_id,
    parse_note,
    verify_note,
)

# Interoperability vectors written by torchwood v0.10.0 (a tlog-witness implementation in Go): a log
# key, three witness keys of type 0x04, and a checkpoint the log and the witnesses signed.
LOG_KEY = "example.com/log+bff03704+ASCnxbDygGa23JIkY9tjqisWYoqagOS63fcd9daLrTE7"
W1 = "example.com/w1+a72856e1+BHjw7QAzt7GUhD5JnLF3XLaP6DpiJeWa9pnwQtbET3nu"
W2 = "example.com/w2+d3a59932+BD+1Dyxs+Mvh3r33SEWPVGxtc66lJRcr2n3BT9H/ob6E"
W3 = "example.com/w3+a20121ef+BMjDI6bhql0gNbDEQV4SB1Ep0SH3aZh4GLay7ZBO1CMm"
BODY = "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SIGNATURE_LINES = (
    "— example.com/log v/A3BO2uStYDdI9UMljsq3mM1p1zkCAfr3O/m7FSS/7rV0"
    "xpbU/D+gTkuS7BfUejcrDk8Pw3G6yiAoGnsoIXI8laqAw=",
    "— example.com/w1 pyhW4QAAAABqvnLat8ho08Kz255OYB7Vy/8NdAHlKq0tpL+LQ/+W"
    "3m2+ah53FZu1aOulmPJQLWQPp3b3rEd8kb4XOmrjIP8u8rqeBA==",
    "— example.com/w2 06WZMgAAAABqvnLade9rIRPZ3Egg6SDr+LQJN481TCxQ1msvM48J"
    "PJLUqMM9jxiBejwYSOTaTVDctQa/B80DEMn9xL+Np7nzg6qiDw==",
    "— example.com/w3 ogEh7wAAAABqvnLaPcIA/Kr45bkNY/BVMyG100G2Xkj8bXD5c2fZ"
    "Be6nDwl/N4fYBJTTOJxXADPCSffzDqgFdKAjr0L9xmGRF5A0AA==",
)
COSIGNED = BODY + "\n" + "".join(f"{line}\n" for line in SIGNATURE_LINES)
# The same tree head with an extension line, signed by the log and W1: extension lines are cosigned too.
EXTENDED_LINES = (
    "— example.com/log v/A3BKMjmv3d7C6xPbd58TECfECK1q+BtKQiNdenVdvwpE"
    "n7y2la9SCtDdxvALHglFXvYGNWAvCf7jSj6g1RvNBOWAA=",
    "— example.com/w1 pyhW4QAAAABqvnLasqEFje9lXVOqbpGT8kMXrnXxC8/3zNGWkUUw"
    "S5UY6R7dHCn1tPLFbrs+B2TyAZqs8T2WK6X4+VcKNtetsSrLAg==",
)
EXTENDED = BODY + "an extension line\n\n" + "".join(f"{line}\n" for line in EXTENDED_LINES)
VECTOR_TIME = 0x6ABE72DA


@pytest.mark.parametrize("witness_key", [W1, W2, W3])
def test_the_vectors_of_another_implementation_verify(witness_key: str) -> None:
    note = parse_note(COSIGNED)
    (cosignature,) = cosignatures_by(note.text, note.signatures, witness_verifier(witness_key))
    assert cosignature.timestamp == VECTOR_TIME
    # The log's own signature is an ordinary note signature, and the witness lines are not.
    assert verify_note(note, [Verifier.parse(LOG_KEY)]) == (Verifier.parse(LOG_KEY),)


def test_extension_lines_are_part_of_the_cosigned_message() -> None:
    note = parse_note(EXTENDED)
    assert cosignatures_by(note.text, note.signatures, witness_verifier(W1))
    without = parse_note(COSIGNED).signatures
    extended_line = next(s for s in note.signatures if s.name == "example.com/w1")
    with pytest.raises(CosignatureError, match="does not verify"):
        cosignatures_by(BODY, [*without[:1], extended_line], witness_verifier(W1))


def test_witness_key_ids_use_type_byte_0x04() -> None:
    witness = witness_verifier(W1)
    assert witness.key_type == COSIGNATURE_V1
    assert witness.key_id == 0xA72856E1 == key_id("example.com/w1", witness.public_key, COSIGNATURE_V1)
    assert witness.key_id != key_id("example.com/w1", witness.public_key)
    assert witness.text() == W1
    with pytest.raises(NoteError, match="type 0x01"):
        Verifier.parse(W1)  # a witness key is not a log key
    with pytest.raises(NoteError, match="type 0x04"):
        witness_verifier(LOG_KEY)


def test_the_signed_message_is_the_spec_layout() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    cosignature = cosigner.cosign(BODY, 1679315147)
    message = b"cosignature/v1\ntime 1679315147\n" + BODY.encode()
    # Checked with the bare Ed25519 key: nothing of shadan's own verification is trusted here.
    Ed25519PublicKey.from_public_bytes(cosigner.verifier.public_key).verify(cosignature.signature, message)
    blob = base64.b64decode(cosignature.line().split(" ")[2])
    assert blob[:4] == cosigner.verifier.key_id.to_bytes(4, "big")
    assert blob[4:12] == (1679315147).to_bytes(8, "big")
    assert blob[12:] == cosignature.signature
    assert len(blob) == 4 + 8 + 64


def test_a_line_round_trips_and_verifies() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    line = cosigner.cosign(BODY, 1_700_000_000).line()
    (parsed,) = _signature_lines(line)
    cosignature = Cosignature.of(parsed)
    assert cosignature.timestamp == 1_700_000_000
    verify_cosignature(BODY, cosignature, cosigner.verifier)


def test_a_cosignature_by_another_key_of_the_same_name_is_refused() -> None:
    genuine = Cosigner.generate("witness.example.jp/egc")
    impostor = Cosigner.generate("witness.example.jp/egc")
    forged = impostor.cosign(BODY, 1_700_000_000)
    with pytest.raises(CosignatureError, match="not by witness key"):
        verify_cosignature(BODY, forged, genuine.verifier)
    # Even with the genuine key id copied in, the signature itself fails.
    relabelled = Cosignature(forged.name, genuine.verifier.key_id, forged.timestamp, forged.signature)
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(BODY, relabelled, genuine.verifier)


def test_a_changed_timestamp_or_checkpoint_is_refused() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    cosignature = cosigner.cosign(BODY, 1_700_000_000)
    later = Cosignature(cosignature.name, cosignature.key_id, 1_700_000_001, cosignature.signature)
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(BODY, later, cosigner.verifier)
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(BODY.replace("20852163", "20852164"), cosignature, cosigner.verifier)


def test_a_failing_line_of_the_witness_rejects_even_beside_a_good_one() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    good = _signature_lines(cosigner.cosign(BODY, 1_700_000_000).line())[0]
    bad_cosignature = cosigner.cosign(BODY, 1_700_000_001)
    bad = NoteSignature(
        bad_cosignature.name,
        bad_cosignature.key_id,
        (1_700_000_002).to_bytes(8, "big") + bad_cosignature.signature,
    )
    assert cosignatures_by(BODY, [good], cosigner.verifier)
    with pytest.raises(CosignatureError):
        cosignatures_by(BODY, [good, bad], cosigner.verifier)


def test_lines_of_other_keys_are_ignored_but_one_of_the_witness_is_needed() -> None:
    witness = Cosigner.generate("witness.example.jp/egc")
    other = Cosigner.generate("witness.example.jp/other")
    lines = _signature_lines(
        witness.cosign(BODY, 1_700_000_000).line() + other.cosign(BODY, 1_700_000_000).line()
    )
    assert [c.name for c in cosignatures_by(BODY, lines, witness.verifier)] == ["witness.example.jp/egc"]
    with pytest.raises(CosignatureError, match="no cosignature"):
        cosignatures_by(BODY, lines[1:], witness.verifier)


@pytest.mark.parametrize(
    "blob",
    [
        b"\x00" * 71,  # one byte short
        b"\x00" * 73,
        b"\x80" + b"\x00" * 71,  # timestamp above 2**63 - 1
    ],
)
def test_malformed_cosignature_blobs_are_refused(blob: bytes) -> None:
    with pytest.raises(CosignatureError):
        Cosignature.of(NoteSignature("witness.example.jp/egc", 1, blob))


def test_timestamps_out_of_range_are_never_signed() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    with pytest.raises(CosignatureError):
        cosigner.cosign(BODY, -1)
    with pytest.raises(CosignatureError):
        cosigner.cosign(BODY, 2**63)


def test_witness_signing_key_file_round_trips_and_is_not_a_log_key() -> None:
    cosigner = Cosigner.generate("witness.example.jp/egc")
    text = cosigner.secret_text()
    assert text.startswith("PRIVATE+KEY+witness.example.jp/egc+")
    assert Cosigner.parse(text).verifier == cosigner.verifier
    with pytest.raises(NoteError):
        Signer.parse(text)
    with pytest.raises(NoteError):
        Cosigner(Signer.generate("a.log"))
    assert "PRIVATE" not in repr(cosigner)
    assert text.split("+")[-1] not in repr(cosigner)


def test_a_cosigner_key_is_never_used_as_a_note_signer() -> None:
    # A 0x04 key handed to note verification does not turn cosignature lines into note signatures.
    cosigner = Cosigner.generate("witness.example.jp/egc")
    note = parse_note(BODY + "\n" + cosigner.cosign(BODY, 1_700_000_000).line())
    with pytest.raises(NoteVerificationError, match="not signed by any trusted key"):
        verify_note(note, [cosigner.verifier])


def _signature_lines(lines: str) -> tuple[NoteSignature, ...]:
    """A witness's answer read as the log reads it: the signature lines of the cosigned note."""
    return parse_note(BODY + "\n" + lines).signatures
