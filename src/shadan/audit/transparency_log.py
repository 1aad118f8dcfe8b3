"""The SQL transparency log (services.audit_log.TransparencyLog): sequencer, checkpoints, proofs, keys."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, and_, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from shadan.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from shadan.audit.entry import as_utc
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog, access_events, access_log_entries
from shadan.audit.merkle import inclusion_proof, leaf_hash, root_at, verify_inclusion
from shadan.audit.note import NoteError, NoteVerificationError, Signer, Verifier
from shadan.audit.proof_file import ProofFile
from shadan.audit.record_tables import log_cosignatures, log_verifications
from shadan.audit.sequencer import Clock, Sequencer, read_state
from shadan.audit.tree_store import locked, node_reader
from shadan.audit.tree_tables import log_checkpoints, log_leaves
from shadan.audit.verification import LogAudit
from shadan.audit.waiting import MAX_WAIT
from shadan.domain.errors import AuditUnavailable, InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.services.audit_log import (
    CheckpointInfo,
    LogFailure,
    LogFailureKind,
    LogIntegrityError,
    Progress,
    VerificationReport,
    VerificationRun,
    WitnessQuorum,
)
from shadan.services.identity import SYSTEM_NAME
from shadan.services.log_sink import UNAVAILABLE_MESSAGE


class SqlTransparencyLog:
    def __init__(
        self,
        engine: Engine,
        keys: FileKeyStore,
        clock: Clock,
        settle: dt.timedelta = dt.timedelta(seconds=60),
        witness_quorum: int = 1,
        max_wait: dt.timedelta = MAX_WAIT,
        system: str = SYSTEM_NAME,
    ) -> None:
        if witness_quorum < 1:
            raise ValueError("the witness quorum must be at least 1")
        self._engine = engine
        self._keys = keys
        self._clock = clock
        self._quorum = witness_quorum
        self._max_wait = max_wait  # SHADAN_LOG_SEQUENCING_MAX_WAIT_MINUTES (waiting.py)
        self._sequencer = Sequencer(engine, clock, settle, system=system)

    def sequence(self) -> int:
        return self._sequencer.sequence()

    def latest_checkpoint(self) -> CheckpointInfo | None:
        with self._engine.connect() as connection:
            return _latest(connection)

    def sign_checkpoint(self) -> CheckpointInfo:
        return self._sign([self._keys.signer()])

    def leaf_index_of(self, seq: int) -> int | None:
        with self._engine.connect() as connection:
            index = connection.execute(
                select(log_leaves.c.leaf_index).where(log_leaves.c.seq == seq)
            ).scalar_one_or_none()
        return None if index is None else int(index)

    def proof_for_event(self, seq: int) -> str:
        with self._engine.connect() as connection:
            leaf = connection.execute(select(log_leaves).where(log_leaves.c.seq == seq)).first()
            stored = connection.execute(
                select(access_log_entries.c.entry).where(access_log_entries.c.seq == seq)
            ).scalar_one_or_none()
            head = None if leaf is None else self._proof_head(connection, leaf.leaf_index)
            if leaf is None or stored is None or head is None or head.size <= leaf.leaf_index:
                raise NotFound(f"連番 {seq} のイベントは、署名済みの木にありません。")
            checkpoint = open_checkpoint(head.note, self._keys.verifiers(), head.origin)
            note = head.note + "".join(f"{line}\n" for line in _cosignature_lines(connection, head))
            entry = stored.encode("utf-8")
            if leaf_hash(entry) != bytes(leaf.leaf_hash):
                raise LogIntegrityError(f"連番 {seq} のイベントが記録時の内容と異なります。")
            proof = inclusion_proof(leaf.leaf_index, head.size, node_reader(connection))
        # Never hand out a proof that would not verify: check it exactly as an auditor will.
        verify_inclusion(leaf.leaf_index, head.size, leaf_hash(entry), proof, checkpoint.checkpoint.root_hash)
        return ProofFile(entry, leaf.leaf_index, tuple(proof), note).render()

    def _proof_head(self, connection: Connection, leaf_index: int) -> CheckpointInfo | None:
        """The checkpoint a proof rests on: the newest covering the leaf that the quorum of witnesses
        cosigned; failing that the newest any witness cosigned; failing that the latest."""
        return (
            _witnessed(connection, leaf_index, self._quorum)
            or (_witnessed(connection, leaf_index, 1) if self._quorum > 1 else None)
            or _latest(connection)
        )

    def witness_quorum(self) -> WitnessQuorum:
        with self._engine.connect() as connection:
            return WitnessQuorum(self._quorum, _witnessed(connection, -1, self._quorum))

    def verifier_key(self) -> str:
        return self._keys.signer().verifier.text()

    def rotate_key(self) -> str:
        old = self._keys.signer()
        new = self._keys.rotate()
        # The hand-over checkpoint carries both signatures: a holder of the old key can trust the new one.
        self._sign([new, old])
        return new.verifier.text()

    def verify(
        self, trusted: str | None, verifier_keys: Sequence[str], progress: Progress
    ) -> VerificationReport:
        verifiers = _parse_keys(verifier_keys) if verifier_keys else self._keys.verifiers()
        if not verifiers:
            raise InvalidInput("検証鍵がありません。")
        origin = verifiers[0].name
        return LogAudit(self._engine, verifiers, origin, max_wait=self._max_wait).run(trusted, progress)

    def record_verification(self, run: VerificationRun, event: AccessEvent) -> None:
        with self._appending() as connection:
            connection.execute(insert(log_verifications).values(**_run_row(run)))
            SqlAccessLog(connection).append([event])

    def last_verification(self) -> VerificationRun | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(log_verifications).order_by(log_verifications.c.verification_id.desc()).limit(1)
            ).first()
        return None if row is None else _run_of(row._mapping)

    def record_event(self, event: AccessEvent) -> None:
        with self._appending() as connection:
            SqlAccessLog(connection).append([event])

    def seq_of_event(self, event_id: str) -> int | None:
        with self._engine.connect() as connection:
            seq = connection.execute(
                select(access_events.c.seq).where(access_events.c.event_id == event_id)
            ).scalar_one_or_none()
        return None if seq is None else int(seq)

    @contextmanager
    def _appending(self) -> Iterator[Connection]:
        """A transaction committed on success; any database error is AuditUnavailable (fail closed)."""
        try:
            with self._engine.connect() as connection:
                yield connection
                connection.commit()
        except SQLAlchemyError as exc:
            raise AuditUnavailable(UNAVAILABLE_MESSAGE) from exc

    def _sign(self, signers: Sequence[Signer]) -> CheckpointInfo:
        with locked(self._engine) as connection:
            size = read_state(connection).tree_size
            read = node_reader(connection)
            latest = _latest(connection)
            if latest is not None:
                self._check_consistent_with(latest, size, root_at(min(latest.size, size), read))
            head = sign_checkpoint(Checkpoint(signers[0].name, size, root_at(size, read)), signers)
            info = CheckpointInfo(
                signers[0].name, size, head.checkpoint.root_hash, head.render(), self._clock()
            )
            connection.execute(
                insert(log_checkpoints).values(
                    tree_size=info.size, root_hash=info.root_hash, note=info.note, created_at=info.created_at
                )
            )
            return info

    def _check_consistent_with(self, latest: CheckpointInfo, size: int, root_then: bytes) -> None:
        """A log must never sign a tree that contradicts a checkpoint it signed before (C2SP)."""
        try:
            previous = open_checkpoint(latest.note, self._keys.verifiers(), latest.origin)
        except (NoteError, NoteVerificationError, ValueError) as exc:
            raise LogIntegrityError(
                "最新のチェックポイントがこのログの鍵で検証できないため、署名を中止しました。"
            ) from exc
        if latest.size > size or previous.checkpoint.root_hash != root_then:
            raise LogIntegrityError(
                f"木がサイズ {latest.size} の署名済みチェックポイントと一致しないため、署名を中止しました。"
            )


def _latest(connection: Connection) -> CheckpointInfo | None:
    return _checkpoint_info(
        connection.execute(
            select(log_checkpoints)
            .order_by(log_checkpoints.c.tree_size.desc(), log_checkpoints.c.checkpoint_id.desc())
            .limit(1)
        ).first()
    )


def _cosigned(size: Any, root_hash: Any) -> ColumnElement[bool]:
    """Cosignatures of the checkpoint with this size and root."""
    return and_(log_cosignatures.c.tree_size == size, log_cosignatures.c.root_hash == root_hash)


def _witnessed(connection: Connection, leaf_index: int, quorum: int) -> CheckpointInfo | None:
    """The newest checkpoint covering the leaf that at least `quorum` witnesses cosigned, if any: a proof
    against it shows the auditor the log showed those witnesses the same tree. A witness is its name, so
    its keys before and after a rotation count once. The cosignatures are read from the newest down (the
    index on their size) until a checkpoint has enough witnesses: a log without witnesses costs one index
    probe, not one probe for each of its checkpoints. With a quorum above one the scan starts at the
    largest tree that many witnesses can have cosigned together, the quorum-th largest of each witness's
    newest (one index lookup a witness): a witness gone quiet long ago costs no read of every cosignature
    the others made since."""
    newest_first = cosignatures_newest_first(leaf_index)
    if quorum > 1:
        newest = sorted((_newest_size(connection, name) for name in witness_names(connection)), reverse=True)
        if len(newest) < quorum or newest[quorum - 1] <= leaf_index:
            return None  # no checkpoint covering the leaf can have enough witnesses: nothing to read
        newest_first = newest_first.where(log_cosignatures.c.tree_size <= newest[quorum - 1])
    witnesses: dict[tuple[int, bytes], set[str]] = {}
    with connection.execution_options(yield_per=256).execute(newest_first) as rows:
        for size, root, name in rows:
            names = witnesses.setdefault((int(size), bytes(root)), set())
            names.add(name)
            if len(names) >= quorum:
                break
        else:
            return None
    k = log_checkpoints.c
    head = select(log_checkpoints).where(k.tree_size == size, k.root_hash == root)
    return _checkpoint_info(connection.execute(head.order_by(k.checkpoint_id.desc()).limit(1)).first())


# The names of the witnesses that ever cosigned. Years of checkpoints leave millions of cosignatures and a
# handful of witnesses: a loose index scan (the next name after the last, one lookup in the index on name,
# tree size and id each, on both databases), not a scan of them all.
WITNESS_NAMES = """
WITH RECURSIVE names (name) AS (
    SELECT min(witness_name) FROM log_cosignatures
    UNION ALL
    SELECT (SELECT min(witness_name) FROM log_cosignatures WHERE witness_name > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name FROM names WHERE name IS NOT NULL
"""


def witness_names(connection: Connection) -> list[str]:
    """The names of the witnesses that ever cosigned, in order."""
    return sorted(connection.execute(text(WITNESS_NAMES)).scalars())


def newest_of(witness_name: str) -> Select[Any]:
    """A witness's cosignature of the largest tree, the later row of a tie (as recent_cosignatures): the
    end of its range of the index on name, tree size and id."""
    c = log_cosignatures.c
    return (
        select(log_cosignatures)
        .where(c.witness_name == witness_name)
        .order_by(c.tree_size.desc(), c.cosignature_id.desc())
        .limit(1)
    )


def _newest_size(connection: Connection, witness_name: str) -> int:
    return int(connection.execute(newest_of(witness_name)).one().tree_size)


def cosignatures_newest_first(leaf_index: int) -> Select[Any]:
    """The cosignatures of checkpoints covering the leaf, the largest tree first (by the size's index)."""
    c = log_cosignatures.c
    query = select(c.tree_size, c.root_hash, c.witness_name).where(c.tree_size > leaf_index)
    return query.order_by(c.tree_size.desc())


def _cosignature_lines(connection: Connection, head: CheckpointInfo) -> list[str]:
    """The stored cosignature lines of the checkpoint (each verified when it was received)."""
    rows = connection.execute(
        select(log_cosignatures.c.signature_line)
        .where(_cosigned(head.size, head.root_hash))
        .order_by(log_cosignatures.c.cosignature_id)
    ).scalars()
    return list(dict.fromkeys(rows))


def _checkpoint_info(row: Row[Any] | None) -> CheckpointInfo | None:
    if row is None:
        return None
    origin = row.note.split("\n", 1)[0]
    return CheckpointInfo(origin, int(row.tree_size), bytes(row.root_hash), row.note, as_utc(row.created_at))


def _run_row(run: VerificationRun) -> dict[str, Any]:
    failures = [
        {
            "kind": f.kind.value,
            "seq": f.seq,
            "leaf_index": f.leaf_index,
            "detail_ja": f.detail_ja,
            "detail_en": f.detail_en,
        }
        for f in run.failures
    ]
    return {
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "origin": run.origin,
        "tree_size": run.tree_size,
        "events_checked": run.events_checked,
        "checkpoints_checked": run.checkpoints_checked,
        "ok": run.ok,
        "first_bad_seq": run.first_bad_seq,
        "exit_code": run.exit_code,
        "failures": json.dumps(failures, ensure_ascii=False),
        "trusted_size": run.trusted_size,
        "run_by": run.run_by,
    }


def _run_of(row: Any) -> VerificationRun:
    failures = tuple(
        LogFailure(LogFailureKind(f["kind"]), f["seq"], f["leaf_index"], f["detail_ja"], f["detail_en"])
        for f in json.loads(row["failures"])
    )
    return VerificationRun(
        started_at=as_utc(row["started_at"]),
        finished_at=as_utc(row["finished_at"]),
        run_by=row["run_by"],
        origin=row["origin"],
        tree_size=int(row["tree_size"]),
        events_checked=int(row["events_checked"]),
        checkpoints_checked=int(row["checkpoints_checked"]),
        ok=bool(row["ok"]),
        first_bad_seq=row["first_bad_seq"],
        exit_code=int(row["exit_code"]),
        failures=failures,
        trusted_size=row["trusted_size"],
    )


def _parse_keys(texts: Sequence[str]) -> tuple[Verifier, ...]:
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    try:
        return tuple(Verifier.parse(line) for line in lines)
    except NoteError as exc:
        raise InvalidInput(f"検証鍵の形式が不正です: {exc}") from exc
