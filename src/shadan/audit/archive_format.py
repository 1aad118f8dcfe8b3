"""The archive's text formats (docs/access-log.md, "Archive"): the segment manifest and the deletion record.

Manifest `<YYYY-MM>.manifest.json`, version 1: a JSON object naming the log, the segment and its leaf range,
the Parquet file and its SHA-256, the compact-range hashes of [0, first) ("left_edge"), of the segment itself
("subtrees") and of [end, checkpoint size) ("right_range"), each as {"first", "end", "hash" (base64)}, and
the size and signed note of the checkpoint those hashes lead to. It is not signed itself: every hash in it
is tied to the signed root, so a forged one makes the segment fail to verify.

Deletion record, version 1: a C2SP signed note by the log's key, whose first line keeps it from ever being
read as a checkpoint:

    shadan/access-log-deletion/v1
    <origin>
    segment <YYYY-MM>
    leaves <first> <end>
    count <events>
    file-sha256 <hex>
    deleted-at <UTC timestamp>
    reason <one line>
    subtree <first> <end> <base64 hash>      (one line per subtree of the segment's compact range)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadan.audit.checkpoint import CheckpointError, SignedTreeHead, open_checkpoint
from shadan.audit.entry import format_timestamp
from shadan.audit.merkle import HASH_SIZE
from shadan.audit.note import Signer, Verifier, parse_note, sign_note, verify_note
from shadan.audit.segment_hashes import Subtree, has_shape

MANIFEST_FORMAT = "shadan/access-log-segment"
MANIFEST_VERSION = 1
DELETION_HEADER = "shadan/access-log-deletion/v1"
_SEGMENT = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class ArchiveFormatError(ValueError):
    """A manifest or deletion record that is not well formed."""


def parquet_name(segment: str) -> str:
    return f"{segment}.parquet"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, lowercase hex, as the manifest's `file_sha256` and a deletion record hold it."""
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def manifest_name(segment: str) -> str:
    return f"{segment}.manifest.json"


def deletion_name(segment: str) -> str:
    return f"{segment}.deletion"


@dataclass(frozen=True, slots=True)
class Manifest:
    origin: str
    segment: str
    first_leaf: int
    end_leaf: int
    count: int
    first_ts: str | None  # entry timestamps (UTC) of the earliest and latest event, None when empty
    last_ts: str | None
    file: str
    file_sha256: str
    left_edge: tuple[Subtree, ...]
    subtrees: tuple[Subtree, ...]
    right_range: tuple[Subtree, ...]
    checkpoint_size: int
    checkpoint: str  # the signed note, verbatim
    created_at: str

    def render(self) -> str:
        document = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "origin": self.origin,
            "segment": self.segment,
            "first_leaf": self.first_leaf,
            "end_leaf": self.end_leaf,
            "count": self.count,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "left_edge": _subtrees_json(self.left_edge),
            "subtrees": _subtrees_json(self.subtrees),
            "right_range": _subtrees_json(self.right_range),
            "checkpoint_size": self.checkpoint_size,
            "checkpoint": self.checkpoint,
            "created_at": self.created_at,
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def parse(cls, text: str | bytes) -> Manifest:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ArchiveFormatError(f"manifest is not JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
            raise ArchiveFormatError(f"not a manifest of format {MANIFEST_FORMAT!r}")
        if document.get("version") != MANIFEST_VERSION:
            raise ArchiveFormatError(f"manifest version {document.get('version')!r} is not supported")
        try:
            manifest = cls(
                origin=_text(document["origin"]),
                segment=_text(document["segment"]),
                first_leaf=_count(document["first_leaf"]),
                end_leaf=_count(document["end_leaf"]),
                count=_count(document["count"]),
                first_ts=_optional_text(document["first_ts"]),
                last_ts=_optional_text(document["last_ts"]),
                file=_text(document["file"]),
                file_sha256=_text(document["file_sha256"]),
                left_edge=_subtrees(document["left_edge"]),
                subtrees=_subtrees(document["subtrees"]),
                right_range=_subtrees(document["right_range"]),
                checkpoint_size=_count(document["checkpoint_size"]),
                checkpoint=_text(document["checkpoint"]),
                created_at=_text(document["created_at"]),
            )
        except KeyError as exc:
            raise ArchiveFormatError(f"manifest lacks {exc}") from exc
        manifest.check_shape()
        return manifest

    def check_shape(self) -> None:
        """The fields agree with each other (not yet with the file or the checkpoint)."""
        if not _SEGMENT.fullmatch(self.segment) or self.file != parquet_name(self.segment):
            raise ArchiveFormatError(f"segment {self.segment!r} or file {self.file!r} is misnamed")
        if not _SHA256.fullmatch(self.file_sha256):
            raise ArchiveFormatError("file_sha256 is not 64 lowercase hex digits")
        if not self.first_leaf <= self.end_leaf or self.count != self.end_leaf - self.first_leaf:
            raise ArchiveFormatError("the leaf range and the count disagree")
        if not (
            has_shape(self.left_edge, 0, self.first_leaf)
            and has_shape(self.subtrees, self.first_leaf, self.end_leaf)
            and has_shape(self.right_range, self.end_leaf, self.checkpoint_size)
        ):
            raise ArchiveFormatError("the subtree hashes do not tile the leaf ranges they name")

    def open_checkpoint(self, verifiers: Iterable[Verifier], origin: str) -> SignedTreeHead:
        """The manifest's checkpoint, verified with the keys (NoteVerificationError, CheckpointError)."""
        head = open_checkpoint(self.checkpoint, verifiers, origin)
        if head.checkpoint.size != self.checkpoint_size or self.origin != origin:
            raise CheckpointError("the checkpoint's size or log name differs from the manifest's")
        return head


@dataclass(frozen=True, slots=True)
class DeletionRecord:
    origin: str
    segment: str
    first_leaf: int
    end_leaf: int
    count: int
    file_sha256: str
    deleted_at: dt.datetime
    reason: str
    subtrees: tuple[Subtree, ...]

    def text(self) -> str:
        lines = [
            DELETION_HEADER,
            self.origin,
            f"segment {self.segment}",
            f"leaves {self.first_leaf} {self.end_leaf}",
            f"count {self.count}",
            f"file-sha256 {self.file_sha256}",
            f"deleted-at {format_timestamp(self.deleted_at)}",
            f"reason {' '.join(self.reason.split())}",
            *(f"subtree {s.first} {s.end} {base64.b64encode(s.hash).decode()}" for s in self.subtrees),
        ]
        return "".join(f"{line}\n" for line in lines)

    def sign(self, signer: Signer) -> str:
        return sign_note(self.text(), [signer]).render()

    @classmethod
    def open(cls, note_text: str, verifiers: Iterable[Verifier], origin: str) -> DeletionRecord:
        """Parse a signed deletion record and verify it (NoteError, NoteVerificationError, format error)."""
        note = parse_note(note_text)
        verify_note(note, verifiers)
        record = cls.parse(note.text)
        if record.origin != origin:
            raise ArchiveFormatError(f"the deletion record is from log {record.origin!r}, not {origin!r}")
        return record

    @classmethod
    def parse(cls, text: str) -> DeletionRecord:
        lines = text.split("\n")
        if len(lines) < 9 or lines[0] != DELETION_HEADER or lines[-1] != "":
            raise ArchiveFormatError(f"not a deletion record ({DELETION_HEADER})")
        try:
            fields = dict(line.split(" ", 1) for line in lines[2:8])
            first, end = (_decimal(v) for v in fields["leaves"].split(" "))
            record = cls(
                origin=lines[1],
                segment=fields["segment"],
                first_leaf=first,
                end_leaf=end,
                count=_decimal(fields["count"]),
                file_sha256=fields["file-sha256"],
                deleted_at=dt.datetime.fromisoformat(fields["deleted-at"]),
                reason=fields["reason"],
                subtrees=tuple(_subtree_line(line) for line in lines[8:-1]),
            )
        except (KeyError, ValueError) as exc:
            raise ArchiveFormatError(f"malformed deletion record: {exc}") from exc
        if list(fields) != ["segment", "leaves", "count", "file-sha256", "deleted-at", "reason"]:
            raise ArchiveFormatError("deletion record lines are not in the documented order")
        if (
            not _SEGMENT.fullmatch(record.segment)
            or record.count != end - first
            or not has_shape(record.subtrees, first, end)
        ):
            raise ArchiveFormatError("the deletion record's segment, count and subtrees disagree")
        return record


def _subtrees_json(subtrees: Sequence[Subtree]) -> list[dict[str, Any]]:
    return [{"first": s.first, "end": s.end, "hash": base64.b64encode(s.hash).decode()} for s in subtrees]


def _subtrees(value: Any) -> tuple[Subtree, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ArchiveFormatError("a subtree list is not a list of objects")
    try:
        return tuple(Subtree(_count(v["first"]), _count(v["end"]), _hash(v["hash"])) for v in value)
    except KeyError as exc:
        raise ArchiveFormatError(f"a subtree lacks {exc}") from exc


def _subtree_line(line: str) -> Subtree:
    word, first, end, blob = line.split(" ")
    if word != "subtree":
        raise ArchiveFormatError(f"unexpected line {line[:40]!r}")
    return Subtree(_decimal(first), _decimal(end), _hash(blob))


def _hash(value: Any) -> bytes:
    try:
        raw = base64.b64decode(_text(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArchiveFormatError("a hash is not base64") from exc
    if len(raw) != HASH_SIZE:
        raise ArchiveFormatError("a hash is not 32 bytes long")
    return raw


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ArchiveFormatError(f"expected a string, found {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _decimal(text: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise ArchiveFormatError(f"expected a decimal number, found {text[:20]!r}")
    return int(text)


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ArchiveFormatError(f"expected a non-negative integer, found {value!r}")
    return value
