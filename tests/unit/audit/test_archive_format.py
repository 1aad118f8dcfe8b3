"""The archive's text formats: the segment manifest round-trips and refuses what it does not describe; the
signed deletion record round-trips, verifies only with the log's key and is never taken for a checkpoint."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from shadan.audit.archive_format import ArchiveFormatError, DeletionRecord, Manifest
from shadan.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint
from shadan.audit.merkle import leaf_hash
from shadan.audit.note import NoteVerificationError, Signer
from shadan.audit.segment_hashes import segment_subtrees, tree_head

ORIGIN = "test.example/access-log"
SIGNER = Signer.generate(ORIGIN)
HASHES = [leaf_hash(f"entry {i}".encode()) for i in range(23)]


def manifest(first: int = 5, end: int = 13, size: int = 23) -> Manifest:
    left, segment, right = (
        segment_subtrees(0, HASHES[:first]),
        segment_subtrees(first, HASHES[first:end]),
        segment_subtrees(end, HASHES[end:size]),
    )
    head = sign_checkpoint(Checkpoint(ORIGIN, size, tree_head(left, segment, right)), [SIGNER])
    return Manifest(
        origin=ORIGIN,
        segment="2025-04",
        first_leaf=first,
        end_leaf=end,
        count=end - first,
        first_ts="2025-04-01T00:00:00.000000Z",
        last_ts="2025-04-30T23:59:59.999999Z",
        file="2025-04.parquet",
        file_sha256="ab" * 32,
        left_edge=left,
        subtrees=segment,
        right_range=right,
        checkpoint_size=size,
        checkpoint=head.render(),
        created_at="2025-05-01T00:00:00.000000Z",
    )


def record(**changes: object) -> DeletionRecord:
    values: dict[str, object] = {
        "origin": ORIGIN,
        "segment": "2020-04",
        "first_leaf": 5,
        "end_leaf": 13,
        "count": 8,
        "file_sha256": "cd" * 32,
        "deleted_at": dt.datetime(2025, 5, 2, 3, 4, 5, tzinfo=dt.UTC),
        "reason": "保存期間 5 年の満了",
        "subtrees": segment_subtrees(5, HASHES[5:13]),
    }
    return DeletionRecord(**(values | changes))  # type: ignore[arg-type]


def test_manifest_round_trip() -> None:
    original = manifest()
    text = original.render()
    assert Manifest.parse(text) == original
    assert Manifest.parse(text.encode()) == original
    document = json.loads(text)
    assert (document["format"], document["version"]) == ("shadan/access-log-segment", 1)
    assert document["subtrees"][0] == {"first": 5, "end": 6, "hash": document["subtrees"][0]["hash"]}


def test_manifest_checkpoint_verifies_with_the_key_only() -> None:
    parsed = Manifest.parse(manifest().render())
    assert parsed.open_checkpoint([SIGNER.verifier], ORIGIN).checkpoint.size == 23
    with pytest.raises(NoteVerificationError):
        parsed.open_checkpoint([Signer.generate(ORIGIN).verifier], ORIGIN)
    resized = dataclasses.replace(parsed, checkpoint_size=13, right_range=())
    with pytest.raises(CheckpointError, match="size"):
        resized.open_checkpoint([SIGNER.verifier], ORIGIN)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.pop("checkpoint"), "lacks"),
        (lambda d: d.update(count=7), "count"),
        (lambda d: d.update(file="2025-05.parquet"), "misnamed"),
        (lambda d: d.update(segment="2025-13"), "misnamed"),
        (lambda d: d.update(file_sha256="AB" * 32), "file_sha256"),
        (lambda d: d.update(first_leaf=-1), "non-negative"),
        (lambda d: d["left_edge"].pop(), "tile"),
        (lambda d: d["subtrees"][0].update(hash="AAAA"), "32 bytes"),
        (lambda d: d.update(checkpoint_size=30), "tile"),
    ],
)
def test_manifest_refuses_what_it_does_not_describe(change: object, message: str) -> None:
    document = json.loads(manifest().render())
    change(document)  # type: ignore[operator]
    with pytest.raises(ArchiveFormatError, match=message):
        Manifest.parse(json.dumps(document))


def test_manifest_refuses_non_json() -> None:
    with pytest.raises(ArchiveFormatError, match="not JSON"):
        Manifest.parse("{")


def test_deletion_record_round_trip() -> None:
    original = record()
    note = original.sign(SIGNER)
    assert note.startswith("shadan/access-log-deletion/v1\n" + ORIGIN + "\nsegment 2020-04\nleaves 5 13\n")
    assert DeletionRecord.open(note, [SIGNER.verifier], ORIGIN) == original


def test_deletion_record_reason_is_one_line() -> None:
    note = record(reason="保存期間\n満了").sign(SIGNER)
    assert DeletionRecord.open(note, [SIGNER.verifier], ORIGIN).reason == "保存期間 満了"


def test_deletion_record_verifies_only_with_the_logs_key() -> None:
    note = record().sign(SIGNER)
    with pytest.raises(NoteVerificationError):
        DeletionRecord.open(note, [Signer.generate(ORIGIN).verifier], ORIGIN)
    forged = note.replace("leaves 5 13", "leaves 5 14")
    with pytest.raises(NoteVerificationError):
        DeletionRecord.open(forged, [SIGNER.verifier], ORIGIN)
    other = Signer.generate("other.example/access-log")
    with pytest.raises(ArchiveFormatError, match="from log"):
        DeletionRecord.open(record(origin=other.name).sign(other), [other.verifier], ORIGIN)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": 9}, "disagree"),
        ({"subtrees": segment_subtrees(5, HASHES[5:12])}, "disagree"),
        ({"segment": "2020-4"}, "disagree"),
    ],
)
def test_deletion_record_parts_must_agree(change: dict[str, object], message: str) -> None:
    with pytest.raises(ArchiveFormatError, match=message):
        DeletionRecord.parse(record(**change).text())


@pytest.mark.parametrize(
    "text",
    [
        "shadan/access-log-deletion/v1\n",
        "shadan/access-log-deletion/v2\n" + "x\n" * 8,
        record().text().replace("leaves 5 13", "leaves +5 13"),
        record().text().replace("count 8", "count ８"),
        record().text().replace("segment 2020-04\nleaves 5 13", "leaves 5 13\nsegment 2020-04"),
        record().text().replace("subtree 5 6", "subtree 5 x"),
    ],
)
def test_deletion_record_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ArchiveFormatError):
        DeletionRecord.parse(text)


def test_a_deletion_record_is_never_a_checkpoint_and_back() -> None:
    note = record().sign(SIGNER)
    with pytest.raises(CheckpointError):
        open_checkpoint(note, [SIGNER.verifier], ORIGIN)
    checkpoint = manifest().checkpoint
    with pytest.raises(ArchiveFormatError):
        DeletionRecord.open(checkpoint, [SIGNER.verifier], ORIGIN)
