"""The witness's own small SQLite database in its home (not shadan's schema); its keys beside it are
witness_key_file.py's.

    <home>/witness.db    trusted log keys, the latest cosigned checkpoint per log, split views, the
                         witness's own keys as they were added and retired

The witness is a separate tiny service run by another party, so its schema is made with
`metadata.create_all`, not with shadan's migrations. The latest checkpoint moves with a compare-and-set
UPDATE, so the check of the old size and the write of the new checkpoint are one atomic step (the race
the tlog-witness spec warns of cannot roll a log back).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from shadan.audit.entry import as_utc
from shadan.services.witness import KeyChange, KeyEvent, SplitView, TreeHead, Witnessed

DATABASE_FILE = "witness.db"

metadata = MetaData()

witness_logs = Table(
    "witness_logs",
    metadata,
    Column("origin", String(200), primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=True),  # NULL until the first checkpoint is cosigned
    Column("checkpoint_text", Text, nullable=True),
    Column("note", Text, nullable=True),  # the cosigned checkpoint as the log signed it, verbatim
    Column("cosigned_at", DateTime(timezone=True), nullable=True),
    Column("trusted_at", DateTime(timezone=True), nullable=False),
)

witness_log_keys = Table(
    "witness_log_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(200), ForeignKey("witness_logs.origin"), nullable=False),
    Column("verifier_key", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("origin", "verifier_key"),
)

witness_split_views = Table(
    "witness_split_views",
    metadata,
    Column("split_view_id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(200), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("witnessed_note", Text, nullable=False),
    Column("presented_note", Text, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("origin", "witnessed_note", "presented_note"),
)


witness_key_changes = Table(
    "witness_key_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("verifier_key", Text, nullable=False),
    Column("event", String(16), nullable=False),  # services.witness.KeyEvent
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


class SqlWitnessStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def in_home(cls, home: Path) -> SqlWitnessStore:
        # The sqlite3 timeout waits for another writer (several workers, `add` beside `serve`).
        engine = create_engine(f"sqlite:///{home / DATABASE_FILE}", connect_args={"timeout": 30})
        return cls(engine)

    def create(self) -> None:
        metadata.create_all(self._engine)

    def trust(self, origin: str, verifier_key: str, now: dt.datetime) -> bool:
        with self._engine.begin() as connection:
            known = connection.execute(select(witness_logs.c.origin).where(witness_logs.c.origin == origin))
            if known.first() is None:
                connection.execute(insert(witness_logs).values(origin=origin, tree_size=0, trusted_at=now))
            exists = connection.execute(
                select(witness_log_keys.c.key_id).where(
                    witness_log_keys.c.origin == origin, witness_log_keys.c.verifier_key == verifier_key
                )
            ).first()
            if exists is not None:
                return False
            connection.execute(
                insert(witness_log_keys).values(origin=origin, verifier_key=verifier_key, added_at=now)
            )
            return True

    def log_keys(self, origin: str) -> tuple[str, ...]:
        query = select(witness_log_keys.c.verifier_key).where(witness_log_keys.c.origin == origin)
        with self._engine.connect() as connection:
            return tuple(connection.execute(query).scalars())

    def latest(self, origin: str) -> Witnessed | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(witness_logs).where(witness_logs.c.origin == origin)).first()
        if row is None or row.note is None:
            return None
        head = TreeHead(origin, int(row.tree_size), bytes(row.root_hash), row.checkpoint_text)
        return Witnessed(head, row.note, as_utc(row.cosigned_at))

    def advance(self, origin: str, previous: Witnessed | None, new: Witnessed) -> bool:
        row = witness_logs.c
        if previous is None:
            where = (row.origin == origin) & row.note.is_(None)
        else:
            size, root = previous.head.size, previous.head.root_hash
            where = (row.origin == origin) & (row.tree_size == size) & (row.root_hash == root)
        values = {
            "tree_size": new.head.size,
            "root_hash": new.head.root_hash,
            "checkpoint_text": new.head.text,
            "note": new.note,
            "cosigned_at": new.cosigned_at,
        }
        with self._engine.begin() as connection:
            return connection.execute(update(witness_logs).where(where).values(values)).rowcount == 1

    def record_split_view(self, split_view: SplitView) -> bool:
        values = {
            "origin": split_view.origin,
            "tree_size": split_view.tree_size,
            "witnessed_note": split_view.witnessed_note,
            "presented_note": split_view.presented_note,
            "detected_at": split_view.detected_at,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(witness_split_views).values(values))
        except IntegrityError:
            return False  # the same evidence again (a replayed request): one record is enough
        return True

    def split_views(self) -> list[SplitView]:
        query = select(witness_split_views).order_by(witness_split_views.c.split_view_id)
        with self._engine.connect() as connection:
            return [
                SplitView(
                    r.origin, int(r.tree_size), r.witnessed_note, r.presented_note, as_utc(r.detected_at)
                )
                for r in connection.execute(query)
            ]

    def record_key_change(self, change: KeyChange) -> None:
        values = {"verifier_key": change.verifier_key, "event": change.event.value, "changed_at": change.at}
        with self._engine.begin() as connection:
            connection.execute(insert(witness_key_changes).values(values))

    def record_keys_found(self, verifier_keys: tuple[str, ...], at: dt.datetime) -> None:
        # One INSERT … SELECT … WHERE NOT EXISTS a key: SQLite takes the write lock before the statement
        # reads, so a second process starting at the same moment waits and then finds the row.
        changes = witness_key_changes.c
        with self._engine.begin() as connection:
            for key in verifier_keys:
                unrecorded = ~exists().where(changes.verifier_key == key)
                values = (literal(key), literal(KeyEvent.FOUND.value), literal(at, changes.changed_at.type))
                found = select(*values).where(unrecorded)
                connection.execute(
                    insert(witness_key_changes).from_select(["verifier_key", "event", "changed_at"], found)
                )

    def key_changes(self) -> list[KeyChange]:
        query = select(witness_key_changes).order_by(witness_key_changes.c.change_id)
        with self._engine.connect() as connection:
            return [
                KeyChange(r.verifier_key, KeyEvent(r.event), as_utc(r.changed_at))
                for r in connection.execute(query)
            ]

    def log_count(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(witness_logs)).scalar_one())
