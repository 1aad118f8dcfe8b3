"""Every request that touches the registry or a session leaves an access event - allowed, denied and
failed logins alike - with who, what, when, where and why; and when the log cannot be written the
request fails closed: 503 and not one customer value."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, select, text
from world import PASSWORD, TestClient, World, bearer, csrf_from, page_login, values_of

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import access_log_entries
from shadan.domain.events import AccessEvent
from shadan.domain.registry import SUPPLY_POINT_FIELDS

POINT = "0600001111222233334444"
TERMINAL = {"X-Shadan-Terminal": "OSK-TD-0612"}


def _events(shadan: Any) -> list[AccessEvent]:
    with shadan.engine.connect() as conn:
        rows = conn.execute(select(access_log_entries).order_by(access_log_entries.c.seq)).all()
    events = [event_from_entry(int(seq), entry) for seq, entry in rows]
    assert None not in events  # every entry here is one shadan wrote
    return [e for e in events if e is not None]


class Recorder:
    """Runs one request and returns the access events it added."""

    def __init__(self, shadan: Any) -> None:
        self._shadan = shadan

    def __call__(self, request: Callable[[], Any]) -> tuple[Any, list[AccessEvent]]:
        before = len(_events(self._shadan))
        response = request()
        return response, _events(self._shadan)[before:]


@pytest.fixture
def recorder(shadan: Any) -> Recorder:
    return Recorder(shadan)


def test_failed_logins_are_logged_without_naming_a_stranger(client: TestClient, recorder: Recorder) -> None:
    response, events = recorder(
        lambda: client.post("/api/v1/session", json={"account_id": "no.body", "password": PASSWORD})
    )
    assert response.status_code == 401
    assert [(e.action, e.outcome) for e in events] == [("login_failed", "denied")]
    assert events[0].source_ip == "testclient"
    assert "no.body" not in str(events[0])  # a typed id may be a mistyped password: only its hash


def test_login_and_second_factor_are_logged(client: TestClient, world: World, recorder: Recorder) -> None:
    response, events = recorder(
        lambda: client.post("/api/v1/session", json={"account_id": "k.tanaka", "password": PASSWORD})
    )
    token = response.json()["session_token"]
    assert [(e.action, e.outcome, e.account_id) for e in events] == [("login", "allowed", "k.tanaka")]
    _, events = recorder(
        lambda: client.post("/api/v1/session/mfa", json={"code": "000000"}, headers=bearer(token))
    )
    assert [(e.action, e.outcome) for e in events] == [("login_failed", "denied")]
    _, events = recorder(
        lambda: client.post("/api/v1/session/mfa", json={"code": world.totp("clerk")}, headers=bearer(token))
    )
    assert [(e.action, e.outcome) for e in events] == [("login", "allowed")]
    _, events = recorder(lambda: client.delete("/api/v1/session", headers=bearer(token)))
    assert len(events) == 1
    assert (events[0].account_id, events[0].source_ip) == ("k.tanaka", "testclient")


def test_a_refused_session_token_is_logged(client: TestClient, world: World, recorder: Recorder) -> None:
    stale = world.login("clerk")
    client.delete("/api/v1/session", headers=bearer(stale))
    for token, account in (("not-a-session-token", ""), (stale, "k.tanaka")):
        response, events = recorder(
            lambda t=token: client.get(
                f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=bearer(t)
            )
        )
        assert response.status_code == 401
        assert [(e.action, e.outcome, e.account_id) for e in events] == [("login_failed", "denied", account)]
        assert events[0].source_ip == "testclient"
        assert token not in repr(events[0])


def test_reads_allowed_and_denied_are_logged_with_context(
    client: TestClient, world: World, recorder: Recorder
) -> None:
    token = world.login("clerk")
    headers = bearer(token) | TERMINAL

    response, events = recorder(
        lambda: client.get(f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=headers)
    )
    assert response.status_code == 200
    (event,) = events
    assert (event.action, event.outcome, event.account_id) == ("view", "allowed", "k.tanaka")
    assert event.resource_ids == (POINT,)
    assert event.purpose == "託送業務"
    assert event.terminal_id == "OSK-TD-0612"
    assert event.source_ip == "testclient"
    assert event.company_id == "td06"
    assert set(event.categories) == {"supply_point", "location", "new_power_customer"}
    assert set(event.withheld_categories) == {"equipment", "grid"}
    assert event.policy_ids
    assert event.ts == world.clock()

    other = world.point_id("other_area")
    response, events = recorder(
        lambda: client.get(f"/api/v1/supply-points/{other}", params={"purpose": "託送業務"}, headers=headers)
    )
    assert response.status_code == 404
    assert [(e.action, e.outcome, e.resource_ids) for e in events] == [("view", "denied", (other,))]
    assert "own-area-only" in events[0].policy_ids

    response, events = recorder(lambda: client.get(f"/api/v1/supply-points/{POINT}", headers=headers))
    assert response.status_code == 403
    assert [(e.action, e.outcome) for e in events] == [("view", "denied")]

    response, events = recorder(
        lambda: client.get(
            "/api/v1/supply-points",
            params={"purpose": "問合せ対応", "field": "name_kana", "q": "ヤマダ"},
            headers=headers,
        )
    )
    assert response.status_code == 200
    (event,) = events
    assert (event.action, event.outcome, event.resource_ids) == ("search", "allowed", (POINT,))
    assert event.extra == {"field": "name_kana", "term": "ヤマダ"}


def test_page_requests_are_logged_like_api_requests(
    client: TestClient, world: World, recorder: Recorder
) -> None:
    page = client.get("/login")
    response, events = recorder(
        lambda: client.post(
            "/login", data={"account_id": "k.tanaka", "password": "nope", "csrf_token": csrf_from(page.text)}
        )
    )
    assert response.status_code == 401
    assert [(e.action, e.outcome) for e in events] == [("login_failed", "denied")]

    page_login(client, world, "engineer")
    response, events = recorder(
        lambda: client.get(f"/supply-points/{POINT}", params={"purpose": "設備保全"}, headers=TERMINAL)
    )
    assert response.status_code == 200
    (event,) = events
    assert (event.action, event.outcome, event.account_id, event.terminal_id) == (
        "view",
        "allowed",
        "h.suzuki",
        "OSK-TD-0612",
    )
    assert "new_power_customer" in event.withheld_categories


def test_my_access_history_lists_my_requests_only(client: TestClient, world: World) -> None:
    clerk = world.login("clerk")
    client.get(f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=bearer(clerk))
    engineer = world.login("engineer")
    client.get(f"/api/v1/supply-points/{POINT}", params={"purpose": "設備保全"}, headers=bearer(engineer))
    history = client.get("/api/v1/me/access-history", headers=bearer(clerk)).json()["events"]
    assert history[0]["action"] == "view"
    assert history[0]["resource_ids"] == [POINT]
    assert history[0]["purpose"] == "託送業務"
    assert {e["action"] for e in history} == {"view", "login"}
    assert all(e["purpose"] != "設備保全" for e in history)


# ---- Fail closed --------------------------------------------------------------------------------------


@pytest.fixture
def break_log(db_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    """Make the access log unwritable: SQLite drops the table; PostgreSQL revokes the app role's INSERT."""
    restore: list[tuple[str, str]] = []

    def _break() -> None:
        if db_url.startswith("sqlite"):
            engine = create_engine(db_url)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE access_log_entries"))
            engine.dispose()
            return
        owner_db, _app_db = request.getfixturevalue("postgres_database")
        role = make_url(db_url).username
        engine = create_engine(owner_db)
        with engine.begin() as conn:
            conn.execute(text(f'REVOKE INSERT ON access_log_entries FROM "{role}"'))
        engine.dispose()
        restore.append((owner_db, str(role)))

    yield _break
    for owner_db, role in restore:
        engine = create_engine(owner_db)
        with engine.begin() as conn:
            conn.execute(text(f'GRANT INSERT ON access_log_entries TO "{role}"'))
        engine.dispose()


def _no_customer_value(world: World, body: str) -> None:
    for point in world.points.values():
        for value in values_of(
            point, tuple(n for n in SUPPLY_POINT_FIELDS if n not in ("kind", "voltage", "status"))
        ):
            if value != POINT:
                assert value not in body, f"{value!r} leaked while the log was down"


def test_no_log_no_data(client: TestClient, world: World, break_log: Callable[[], None]) -> None:
    token = world.login("clerk")
    page_login(client, world, "clerk")
    break_log()

    read = client.get(f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=bearer(token))
    assert read.status_code == 503
    assert read.json()["error"] == "audit_unavailable"
    _no_customer_value(world, read.text)

    search = client.get(
        "/api/v1/supply-points",
        params={"purpose": "託送業務", "field": "address", "q": "大阪"},
        headers=bearer(token),
    )
    assert search.status_code == 503
    _no_customer_value(world, search.text)

    page = client.get(f"/supply-points/{POINT}", params={"purpose": "託送業務"})
    assert page.status_code == 503
    assert "アクセスログを記録できない" in page.text
    _no_customer_value(world, page.text)

    login = client.post("/api/v1/session", json={"account_id": "m.sato", "password": PASSWORD})
    assert login.status_code == 503
    assert "session_token" not in login.text


def test_no_log_no_page_login(client: TestClient, world: World, break_log: Callable[[], None]) -> None:
    form = client.get("/login")
    break_log()
    response = client.post(
        "/login", data={"account_id": "m.sato", "password": PASSWORD, "csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 503
    assert "shadan_session=" not in response.headers.get("set-cookie", "")
