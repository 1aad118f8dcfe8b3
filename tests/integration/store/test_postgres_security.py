"""PostgreSQL defence in depth: the app role owns nothing, cannot bypass RLS, cannot rewrite the log."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from store_support import access_event

from shadan.audit.log import SqlAccessLog

pytestmark = pytest.mark.postgres

SUPPLY_POINT = {
    "supply_point_id": "0600000000000000000001",
    "area": "06",
    "kind": "demand",
    "voltage": "low",
    "retailer_code": "R001",
    "contract_no": "C-1",
    "name_kana": "ヤマダ",
    "name_kanji": "山田",
    "address": "大阪府",
    "building": "",
    "phone": "",
    "status": "active",
    "switching_target": True,
    "reading_schedule": "A1",
    "transformer_id": "",
    "feeder_id": "",
}


@pytest.fixture
def app_url(postgres_database: tuple[str, str], unchanged_postgres_schema: None) -> str:
    owner_url, app_url = postgres_database
    owner = create_engine(owner_url)
    with owner.begin() as conn:
        conn.execute(text("TRUNCATE supply_points, retailers, access_log_entries RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO retailers VALUES ('R001', '新電力', NULL)"))
        conn.execute(
            text(
                "INSERT INTO supply_points VALUES (:supply_point_id, :area, :kind, :voltage, :retailer_code,"
                " :contract_no, :name_kana, :name_kanji, :address, :building, :phone, :status,"
                " :switching_target, :reading_schedule, :transformer_id, :feeder_id)"
            ),
            SUPPLY_POINT,
        )
    owner.dispose()
    return app_url


def count_as(app_url: str, realm: str | None, retailer_code: str | None = None) -> int:
    engine = create_engine(app_url)
    with engine.begin() as conn:
        if realm is not None:
            conn.execute(text("SELECT set_config('shadan.realm', :r, true)"), {"r": realm})
        if retailer_code is not None:
            conn.execute(text("SELECT set_config('shadan.retailer_code', :c, true)"), {"c": retailer_code})
        count = int(conn.execute(text("SELECT count(*) FROM supply_points")).scalar_one())
    engine.dispose()
    return count


def test_the_application_role_owns_no_table_and_cannot_bypass_rls(app_url: str) -> None:
    engine = create_engine(app_url)
    with engine.connect() as conn:
        role = conn.execute(text("SELECT current_user")).scalar_one()
        flags = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        ).scalar_one()
    engine.dispose()
    assert role != "postgres"
    assert tuple(flags) == (False, False)
    assert owned == 0


def test_a_retail_realm_session_sees_zero_rows(app_url: str) -> None:
    assert count_as(app_url, "td") == 1
    assert count_as(app_url, "retail") == 0
    assert count_as(app_url, "retail", retailer_code="R999") == 0


def test_a_session_without_a_realm_sees_zero_rows(app_url: str) -> None:
    assert count_as(app_url, None) == 0


def test_own_contract_rows_need_the_retailer_code_set_by_the_application(app_url: str) -> None:
    assert count_as(app_url, "retail", retailer_code="R001") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log_entries SET entry = '{}'",
        "DELETE FROM access_log_entries",
        "UPDATE access_events SET seq = seq + 1",  # the view's only column of the table itself
        "DELETE FROM access_events",
    ],
)
def test_the_application_role_cannot_rewrite_the_access_log(app_url: str, statement: str) -> None:
    engine = create_engine(app_url)
    with engine.begin() as conn:
        SqlAccessLog(conn).append([access_event(1)])
    with pytest.raises(ProgrammingError, match="permission denied"), engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
