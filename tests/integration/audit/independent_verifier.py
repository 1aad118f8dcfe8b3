"""A second, minimal verifier of tlog-proof files, written from the specifications alone.

It imports nothing of shadan: if shadan's writer and shadan's checker shared a misreading of RFC 6962 or
the C2SP formats, this one would disagree. Specs followed:

- c2sp.org/tlog-proof@v1: header line, optional `extra`, `index`, proof hashes, blank line, checkpoint;
- c2sp.org/signed-note: text, blank line, `— <name> <base64(key id || signature)>` lines; verifier key
  `<name>+<hex id>+<base64(0x01 || key)>`, key id = SHA-256(name || 0x0A || 0x01 || key)[:4];
- c2sp.org/tlog-checkpoint: origin, size, base64 root;
- RFC 6962 §2.1: leaf SHA-256(0x00 || entry), node SHA-256(0x01 || left || right). The inclusion check
  splits the path into the part below the point where the paths to leaf `index` and to the last leaf
  meet ("inner", as many levels as index XOR (size - 1) has bits) and the right-border part above it,
  which only ever has left siblings — a different construction from RFC 9162's loop.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Rejected(Exception):
    pass


def verify(proof_text: str, verifier_key: str) -> bytes:
    """The entry bytes proven by the file, or Rejected."""
    header, _, checkpoint_note = proof_text.partition("\n\n")
    lines = header.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Rejected("not a tlog-proof v1 file")
    position = 1
    entry = b""
    if lines[position].startswith("extra "):
        entry = base64.b64decode(lines[position][6:], validate=True)
        position += 1
    if not lines[position].startswith("index "):
        raise Rejected("no index line")
    index = int(lines[position][6:])
    if str(index) != lines[position][6:]:
        raise Rejected("index is not a plain decimal")
    path = [base64.b64decode(line, validate=True) for line in lines[position + 1 :]]
    size, root = _open_checkpoint(checkpoint_note, verifier_key)
    if not _included(index, size, _sha256(b"\x00" + entry), path, root):
        raise Rejected("inclusion proof does not reach the signed root")
    return entry


def verify_segment(manifest: dict[str, Any], entries: list[bytes], verifier_key: str) -> None:
    """An archive segment (docs/access-log.md, "Archive"): its entries, with the manifest's left edge and
    right range, must give the root of its signed checkpoint. Unlike shadan's checker, which merges the
    compact ranges, this one runs RFC 6962's recursion over [0, size) and stops at every subtree whose
    hash it knows: a manifest hash, or a leaf hashed from an entry."""
    size, root = _open_checkpoint(manifest["checkpoint"], verifier_key)
    first, end = manifest["first_leaf"], manifest["end_leaf"]
    if len(entries) != end - first or size != manifest["checkpoint_size"]:
        raise Rejected("the entries or the size do not match the manifest")
    known = {(n["first"], n["end"]): base64.b64decode(n["hash"]) for n in manifest["left_edge"]}
    known |= {(n["first"], n["end"]): base64.b64decode(n["hash"]) for n in manifest["right_range"]}
    known |= {(first + i, first + i + 1): _sha256(b"\x00" + e) for i, e in enumerate(entries)}

    def mth(lo: int, hi: int) -> bytes:
        if (lo, hi) in known:
            return known[(lo, hi)]
        if hi - lo < 2:
            raise Rejected(f"no hash for leaf {lo}")
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        return _sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))

    if mth(0, size) != root:
        raise Rejected("the segment does not lead to the signed root")


def _open_checkpoint(note: str, verifier_key: str) -> tuple[int, bytes]:
    name, key_id_hex, key_b64 = verifier_key.strip().split("+", 2)
    key = base64.b64decode(key_b64)
    if len(key) != 33 or key[0] != 1:
        raise Rejected("not an Ed25519 verifier key")
    expected_id = _sha256(name.encode() + b"\n" + key)[:4]
    if expected_id.hex() != key_id_hex:
        raise Rejected("verifier key id mismatch")
    split = note.rindex("\n\n")
    text, signature_lines = note[: split + 1], note[split + 2 :].rstrip("\n").split("\n")
    public_key = Ed25519PublicKey.from_public_bytes(key[1:])
    signed = False
    for line in signature_lines:
        dash, signer_name, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash != "\u2014" or signer_name != name or raw[:4] != expected_id:
            continue
        try:
            public_key.verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise Rejected("bad signature") from exc
        signed = True
    if not signed:
        raise Rejected("checkpoint not signed by the key")
    origin, size, root = text.split("\n")[:3]
    if origin != name:
        raise Rejected("checkpoint is from another log")
    return int(size), base64.b64decode(root)


def _included(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    if len(path) != inner + border:
        return False
    node = leaf
    for level in range(inner):
        sibling = path[level]
        node = (
            _sha256(b"\x01" + sibling + node) if (index >> level) & 1 else _sha256(b"\x01" + node + sibling)
        )
    for sibling in path[inner:]:
        node = _sha256(b"\x01" + sibling + node)
    return node == root


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
