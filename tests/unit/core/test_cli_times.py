"""The command line shows stored (UTC) times in Japan time: said so in sentences, bare in table columns
whose header says （JST）, empty where there is no time."""

from __future__ import annotations

import datetime as dt

from shadan.cli.command_support import jst, jst_cell

# 2025-03-31 15:30 UTC is already 1 April in Japan.
LATE_UTC = dt.datetime(2025, 3, 31, 15, 30, 5, tzinfo=dt.UTC)


def test_a_sentence_says_jst() -> None:
    assert jst(LATE_UTC) == "2025-04-01 00:30:05 JST"


def test_a_table_cell_is_bare_and_empty_without_a_time() -> None:
    assert jst_cell(LATE_UTC) == "2025-04-01 00:30:05"
    assert jst_cell(LATE_UTC, "%m/%d") == "04/01"
    assert jst_cell(None) == ""
