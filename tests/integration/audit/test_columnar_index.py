"""A worker's check of the search index (columnar_chunks.ChunkChecker): the quick comparison settles the
usual one-id events, the exact one every other list, and neither lets a wrong index row through.

The reports of whole verifications are compared in test_log_maintenance_parallel.py; here the worker's
own answer is asked for, since a worker that wrongly calls a chunk dirty still gives the right report
(the parent checks the chunk again), only far slower.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from audit_support import event
from sqlalchemy import Engine, text

from shadan.audit.columnar_chunks import ChunkChecker
from shadan.audit.log import SqlAccessLog
from shadan.services.audit_log import AuditLogService

# Lists of every shape: the usual single id, none, several (out of order, repeated), and items the
# index leaves out (numbers, objects).
RESOURCE_LISTS: Sequence[tuple[object, ...]] = (
    ("0600001111222233300001",),
    (),
    ("0600001111222233300009", "0600001111222233300003"),
    ("0600001111222233300004", "0600001111222233300004"),
    (7, "0600001111222233300005"),
    ({"id": "0600001111222233300006"},),
    ('ID"with\\quotes',),
    ("東京-0001",),
)


@pytest.fixture
def sequenced(engine: Engine, service: AuditLogService) -> int:
    """One event of each list shape, sequenced; returns the number of leaves."""
    with engine.begin() as connection:
        SqlAccessLog(connection).append(
            [event(i + 1, resource_ids=ids) for i, ids in enumerate(RESOURCE_LISTS)]
        )
    service.checkpoint()
    return len(RESOURCE_LISTS)


def _worker_vouches(engine: Engine, size: int) -> bool:
    checker = ChunkChecker(engine.url.render_as_string(hide_password=False), None)
    try:
        return checker.check(0, size, 3) is not None
    finally:
        checker.close()


def test_every_list_shape_is_settled_in_the_worker(engine: Engine, sequenced: int) -> None:
    assert _worker_vouches(engine, sequenced)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM log_resource_ids WHERE seq = 1",  # the one id hidden
        "DELETE FROM log_resource_ids WHERE seq = 3 AND resource_id = '0600001111222233300003'",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300099', 2)",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300099', 1)",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('7', 5)",  # a number is not an id
        "UPDATE log_resource_ids SET resource_id = 'ID' WHERE seq = 7",
    ],
)
def test_a_wrong_index_row_makes_the_chunk_dirty(
    engine: Engine, owner_engine: Engine, sequenced: int, statement: str
) -> None:
    with owner_engine.begin() as connection:
        connection.execute(text(statement))
    assert not _worker_vouches(engine, sequenced)
