"""search_index.naming takes only ids its LIKE can find: ASCII digits, written in the JSON text as
themselves. Any other id could be escaped there (a quote, a backslash, a non-ASCII digit) and an event
waiting for a leaf would be missed, so it is refused rather than searched for."""

from __future__ import annotations

import pytest
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite

from shadan.audit.search_index import naming


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_an_id_of_ascii_digits_is_looked_up_in_the_index_and_the_waiting_entries(dialect: Dialect) -> None:
    condition = naming(dialect.name, "0600001111222233334444")
    sql = str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    assert "log_resource_ids.resource_id = '0600001111222233334444'" in sql
    assert """LIKE '%"0600001111222233334444"%'""" in sql.replace("%%", "%")  # psycopg's escape of %


@pytest.mark.parametrize("resource_id", ['06"00', "06\\00", "０６００", "%", "06_00", "", "0600 "], ids=repr)
def test_any_other_id_is_refused(resource_id: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        naming("sqlite", resource_id)
