"""The verification worker's statements (columnar_chunks.chunk_queries, chunk_times.SPANS) with their
bounds written in (`bounded`): integers only, whatever tries to pass for one."""

from __future__ import annotations

import numpy as np
import pytest

from shadan.audit.chunk_times import SPANS
from shadan.audit.columnar_chunks import bounded, chunk_queries

STATEMENTS = (*chunk_queries(), *SPANS.values())


def test_every_statement_takes_a_low_and_a_high_bound() -> None:
    for statement in STATEMENTS:
        written = bounded(statement, -3, 1 << 40)
        assert "-3" in written
        assert str(1 << 40) in written
        assert "{" not in written


def test_numpy_integers_are_written_as_plain_integers() -> None:
    leaves = chunk_queries()[0]
    assert bounded(leaves, np.int64(7), np.int64(9)) == bounded(leaves, 7, 9)
    assert "leaf_index >= 7 AND leaf_index < 9" in bounded(leaves, 7, 9)


@pytest.mark.parametrize("bound", ["0 OR 1=1", "1; DROP TABLE log_leaves", 1.5, None, b"1"])
def test_anything_but_an_integer_is_refused(bound: object) -> None:
    for statement in STATEMENTS:
        with pytest.raises(TypeError):
            bounded(statement, bound, 10)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            bounded(statement, 0, bound)  # type: ignore[arg-type]
