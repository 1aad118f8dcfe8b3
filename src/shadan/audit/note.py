"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, signing and verification by `cryptography`.

A note is text ending in a newline, a blank line, then one or more lines `— <key name> <base64(key id ||
signature)>`. Key id = SHA-256(key name || 0x0A || 0x01 || public key)[:4]. Verifier keys are written
`<name>+<hex key id>+<base64(0x01 || public key)>`, signer keys `PRIVATE+KEY+<name>+<hex id>+<base64(0x01
|| seed)>` (the form other implementations read). Verification follows the spec: signatures by unknown
keys are ignored, a failing signature by a known key rejects the note, and at least one known key must sign.
Keys of another signature type byte (0x04, witness cosignatures: audit/cosignature.py) use the same texts
and key ids with their own type byte; they never count as note signers here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # em dash U+2014, space
MAX_SIGNATURES = 100  # the spec asks for at least 16; more than this is an attack, not a witness list
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A malformed note or key."""


class NoteVerificationError(ValueError):
    """A note that is not signed by a trusted key, or whose trusted signature fails."""


def key_id(name: str, public_key: bytes, key_type: int = ED25519) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def check_key_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise NoteError(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class Verifier:
    """A trusted Ed25519 public key with its name and id.

    `key_type` is the signature type byte of the key id and key text: 0x01 for note signatures, other
    types (e.g. 0x04, tlog-cosignature) for Ed25519 keys whose signed message is not the bare note text.
    """

    name: str
    key_id: int
    public_key: bytes
    key_type: int = ED25519

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes, key_type: int = ED25519) -> Verifier:
        return cls(check_key_name(name), key_id(name, public_key, key_type), public_key, key_type)

    @classmethod
    def parse(cls, text: str, key_type: int = ED25519) -> Verifier:
        name, hex_id, material = _split_key(text.strip(), 3)
        raw = _b64(material)
        if len(raw) != 33 or raw[0] != key_type:
            raise NoteError(f"verifier key is not an Ed25519 key (type 0x{key_type:02x}, 32 bytes)")
        verifier = cls.from_public_key(name, raw[1:], key_type)
        if verifier.key_id != _hex_id(hex_id):
            raise NoteError("verifier key id does not match its name and public key")
        return verifier

    def text(self) -> str:
        material = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    """An Ed25519 signing key. The key material never appears in repr or logs."""

    name: str
    _private: Ed25519PrivateKey = field(repr=False)
    key_type: int = ED25519

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> Signer:
        return cls(check_key_name(name), Ed25519PrivateKey.generate(), key_type)

    @classmethod
    def parse(cls, text: str, key_type: int = ED25519) -> Signer:
        parts = text.strip().split("+", 2)
        if parts[:2] != ["PRIVATE", "KEY"] or len(parts) != 3:
            raise NoteError("signer key must start with PRIVATE+KEY+")
        name, hex_id, material = _split_key(parts[2], 3)
        raw = _b64(material)
        if len(raw) != 33 or raw[0] != key_type:
            raise NoteError(f"signer key is not an Ed25519 key (type 0x{key_type:02x}, 32-byte seed)")
        signer = cls(check_key_name(name), Ed25519PrivateKey.from_private_bytes(raw[1:]), key_type)
        if signer.verifier.key_id != _hex_id(hex_id):
            raise NoteError("signer key id does not match its name and key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier.from_public_key(self.name, public, self.key_type)

    def secret_text(self) -> str:
        """The signer key file content; only for writing the key file."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([self.key_type]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{material}\n"

    def sign(self, text: str) -> NoteSignature:
        return NoteSignature(self.name, self.verifier.key_id, self.sign_message(text.encode()))

    def sign_message(self, message: bytes) -> bytes:
        """The bare Ed25519 signature of `message`, for signature types that sign more than the note text."""
        return self._private.sign(message)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def sign_note(text: str, signers: Sequence[Signer]) -> SignedNote:
    _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    return SignedNote(text, tuple(s.sign(text) for s in signers))


def parse_note(data: str | bytes) -> SignedNote:
    """Split a signed note into text and signatures; checks the form, not the signatures."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    if _CONTROL.search(data) or not data.endswith("\n"):
        raise NoteError("note contains control characters or does not end in a newline")
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("note has no blank line before its signatures")
    # Split on U+000A only: other Unicode line breaks are ordinary characters in a note.
    text, lines = data[: cut + 1], data[cut + 2 : -1].split("\n")
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("note must carry between 1 and 100 signature lines")
    return SignedNote(text, tuple(parse_signature_line(line) for line in lines))


def verify_note(note: SignedNote, verifiers: Iterable[Verifier]) -> tuple[Verifier, ...]:
    """The trusted keys that signed the note; raises NoteVerificationError when none did or one failed."""
    # Keys of other types (cosigners) sign another message: their lines are not note signatures here.
    known = {(v.name, v.key_id): v for v in verifiers if v.key_type == ED25519}
    message = note.text.encode()
    good: list[Verifier] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # unknown keys are ignored (witnesses, rotated-in keys the reader does not know yet)
        if not verifier.verifies(message, sig.signature):
            raise NoteVerificationError(f"signature by {sig.name}+{sig.key_id:08x} does not verify")
        if verifier not in good:
            good.append(verifier)
    if not good:
        raise NoteVerificationError("note is not signed by any trusted key")
    return tuple(good)


def _check_text(text: str) -> None:
    if not text.endswith("\n") or text == "\n" or _CONTROL.search(text):
        raise NoteError("note text must be non-empty, end in a newline and contain no control characters")


def parse_signature_line(line: str) -> NoteSignature:
    """One `— <name> <base64(key id || signature)>` line, without its newline."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("signature line does not start with an em dash and a space")
    name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
    check_key_name(name)
    raw = _b64(blob)
    if len(raw) < 5:
        raise NoteError("signature is too short")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _split_key(text: str, parts: int) -> list[str]:
    # The base64 material may itself contain '+': split from the left only.
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise NoteError("key text must be <name>+<hex id>+<base64 key>")
    return fields


def _hex_id(text: str) -> int:
    if not re.fullmatch(r"[0-9a-f]{8}", text):
        raise NoteError("key id must be 8 lowercase hex digits")
    return int(text, 16)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("invalid base64") from exc
