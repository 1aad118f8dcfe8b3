"""The auditors' pages and /api/v1/audit over HTTP: internal audit finds who viewed a supply point and what
a person viewed, downloads proof files that verify with the log's public key alone, and exports CSV,
Shift_JIS CSV and Excel; everyone else gets nothing, and every look - allowed or refused - is logged."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from world import (
    JST,
    TestClient,
    TestClock,
    World,
    bearer,
    build_container,
    build_world,
    make_settings,
    page_login,
)

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import access_log_entries
from shadan.audit.log_search import SqlLogSearch
from shadan.bootstrap import build_cosigning, build_witness
from shadan.domain.events import AccessEvent
from shadan.offline import build_proof_checker
from shadan.services.audit_log import ProofCheckFailed
from shadan.services.audit_review import AuditReviewService
from shadan.services.identity import Actor
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.web.app import create_app

POINT = "0600001111222233334444"
OTHER = "0600001111222233335555"
HYPHENATED = "0600-0011-1122-2233-3344-44"
ROUTES = (
    "/api/v1/audit/status",
    "/api/v1/audit/events",
    "/api/v1/audit/events/export?format=csv",
    "/api/v1/audit/events/1/proof",
)


def _events(shadan: Any) -> list[tuple[int, AccessEvent]]:
    with shadan.engine.connect() as conn:
        rows = conn.execute(select(access_log_entries).order_by(access_log_entries.c.seq)).all()
    return [(int(seq), _event(int(seq), entry)) for seq, entry in rows]


def _event(seq: int, entry: str) -> AccessEvent:
    event = event_from_entry(seq, entry)
    assert event is not None
    return event


def _clerk_reads(client: TestClient, world: World, *points: str) -> None:
    token = world.login("clerk")
    for point in points:
        response = client.get(
            f"/api/v1/supply-points/{point}",
            params={"purpose": "託送業務"},
            headers=bearer(token) | {"X-Shadan-Terminal": "OSK-TD-0612"},
        )
        assert response.status_code == 200


def _seq_of_clerk_view(shadan: Any, point: str) -> int:
    return next(
        seq
        for seq, e in _events(shadan)
        if e.account_id == "k.tanaka" and e.action == "view" and e.resource_ids == (point,)
    )


@pytest.fixture
def auditor(world: World) -> dict[str, str]:
    return bearer(world.login("auditor"))


# ---- Who viewed what ----------------------------------------------------------------------------------


def test_auditor_finds_who_viewed_a_supply_point(
    client: TestClient, world: World, auditor: dict[str, str]
) -> None:
    _clerk_reads(client, world, POINT, OTHER)
    response = client.get("/api/v1/audit/events", params={"supply_point_id": HYPHENATED}, headers=auditor)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == body["matched"] == 1
    (found,) = body["events"]
    assert found["resource_ids"] == [POINT]
    assert (found["account_id"], found["person_id"], found["company_id"]) == ("k.tanaka", "p0000", "td06")
    assert found["company_name"] == "関西電力送配電株式会社"
    assert (found["action"], found["outcome"], found["purpose"]) == ("view", "allowed", "託送業務")
    assert found["terminal_id"] == "OSK-TD-0612"
    assert found["policy_ids"]
    assert set(found["withheld_categories"]) == {"equipment", "grid"}

    _, own = _events(world.shadan)[-1]
    assert (own.account_id, own.resource_type, own.action, own.outcome) == (
        "e.yamada",
        "access_log",
        "search",
        "allowed",
    )
    assert own.extra == {"filters": {"supply_point_id": POINT}}
    assert own.resource_ids == (str(found["seq"]),)


def test_what_a_person_viewed_and_when(client: TestClient, world: World, auditor: dict[str, str]) -> None:
    _clerk_reads(client, world, POINT)
    today = world.clock().astimezone(JST).date()
    params = {"person_id": "p0000", "action": "view", "date_from": str(today), "date_to": str(today)}
    body = client.get("/api/v1/audit/events", params=params, headers=auditor).json()
    assert [(e["resource_ids"], e["purpose"]) for e in body["events"]] == [([POINT], "託送業務")]
    params["date_from"] = params["date_to"] = str(today - dt.timedelta(days=1))
    assert client.get("/api/v1/audit/events", params=params, headers=auditor).json()["events"] == []


def test_results_are_paged_newest_first(client: TestClient, world: World, auditor: dict[str, str]) -> None:
    _clerk_reads(client, world, *([POINT] * 101))
    first = client.get("/api/v1/audit/events", params={"account_id": "k.tanaka"}, headers=auditor).json()
    seqs = [e["seq"] for e in first["events"]]
    assert len(seqs) == 100
    assert seqs == sorted(seqs, reverse=True)
    assert first["next_before"] == seqs[-1]
    second = client.get(
        "/api/v1/audit/events",
        params={"account_id": "k.tanaka", "before": first["next_before"]},
        headers=auditor,
    ).json()
    assert all(e["seq"] < seqs[-1] for e in second["events"])
    assert second["events"]  # the two login events and the oldest reads
    assert second["next_before"] is None


# ---- Proofs and exports ---------------------------------------------------------------------------------


def test_proof_download_verifies_with_the_public_key_alone(
    client: TestClient, world: World, auditor: dict[str, str]
) -> None:
    _clerk_reads(client, world, POINT)
    seq = _seq_of_clerk_view(world.shadan, POINT)
    response = client.get(f"/api/v1/audit/events/{seq}/proof", headers=auditor)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="shadan-{seq}.tlog-proof"'
    key = world.shadan.audit_log.public_key()
    checked = build_proof_checker().check(response.content, [key])
    entry = json.loads(checked.entry)
    assert (entry["seq"], entry["account_id"], entry["resource_ids"]) == (seq, "k.tanaka", [POINT])
    tampered = response.content.replace(b"index ", b"index 1")
    with pytest.raises(ProofCheckFailed):
        build_proof_checker().check(tampered, [key])

    _, own = _events(world.shadan)[-1]
    assert (own.account_id, own.action, own.resource_ids, own.detail) == (
        "e.yamada",
        "export",
        (str(seq),),
        "log:proof_exported",
    )


def test_a_proof_for_a_missing_event_is_404_and_logged(
    client: TestClient, world: World, auditor: dict[str, str]
) -> None:
    response = client.get("/api/v1/audit/events/987654321/proof", headers=auditor)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    _, own = _events(world.shadan)[-1]
    assert (own.outcome, own.resource_ids, own.extra) == ("denied", ("987654321",), {"refused": "not_found"})


@pytest.mark.parametrize("fmt", ["csv", "csv-cp932", "xlsx"])
def test_exports_hold_the_rows(client: TestClient, world: World, auditor: dict[str, str], fmt: str) -> None:
    _clerk_reads(client, world, POINT, OTHER)
    response = client.get(
        "/api/v1/audit/events/export",
        params={"format": fmt, "supply_point_id": POINT},
        headers=auditor,
    )
    assert response.status_code == 200
    assert response.headers["x-shadan-export-rows"] == "1"
    assert response.headers["x-shadan-export-capped"] == "false"
    assert "shadan-access-log-" in response.headers["content-disposition"]
    rows = _table(response.content, fmt)
    assert rows[0][:3] == ["連番", "日時（日本時間）", "アカウントID"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["アカウントID"], row["対象ID"], row["利用目的"]) == ("k.tanaka", POINT, "託送業務")
    assert row["会社名"] == "関西電力送配電株式会社"
    _, own = _events(world.shadan)[-1]
    assert (own.action, own.extra["format"], own.extra["rows"]) == ("export", fmt, 1)


CRAFTED = '{"detail":"<script>alert(1)</script>","ts":"no time"}'  # written straight into the table


def _store_crafted(shadan: Any) -> int:
    insert_entry = text("INSERT INTO access_log_entries (entry) VALUES (:entry) RETURNING seq")
    with shadan.engine.begin() as connection:
        return int(connection.execute(insert_entry, {"entry": CRAFTED}).scalar_one())


@pytest.mark.parametrize("fmt", ["csv", "csv-cp932", "xlsx"])
def test_an_entry_that_is_no_event_is_returned_and_exported_as_unreadable(
    client: TestClient, world: World, auditor: dict[str, str], fmt: str
) -> None:
    seq = _store_crafted(world.shadan)
    body = client.get("/api/v1/audit/events", headers=auditor).json()
    assert body["events"][0] == {"kind": "unreadable_entry", "seq": seq, "entry": CRAFTED}
    assert {e["kind"] for e in body["events"][1:]} == {"event"}
    response = client.get("/api/v1/audit/events/export", params={"format": fmt}, headers=auditor)
    assert response.status_code == 200
    rows = _table(response.content, fmt)
    unreadable = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[0] == str(seq)]
    assert [row["詳細"] for row in unreadable] == [f"読み取れないエントリ: {CRAFTED}"]
    assert not any(value for name, value in unreadable[0].items() if name not in {"連番", "詳細"})


def test_the_events_page_shows_an_unreadable_entry_escaped(client: TestClient, world: World) -> None:
    seq = _store_crafted(world.shadan)
    page_login(client, world, "auditor")
    page = client.get("/audit/events")
    assert page.status_code == 200
    assert 'class="row--unreadable"' in page.text
    assert "読み取れないエントリ" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert f'href="/audit/events/{seq}/proof"' in page.text


def test_status_names_an_entry_left_out_of_the_tree(
    client: TestClient, world: World, auditor: dict[str, str]
) -> None:
    """An entry the sequencer cannot read, written straight into the table: named in red until it is set
    aside (on SQLite a lone surrogate escape, on PostgreSQL a time that is no time)."""
    shadan = world.shadan
    sqlite = shadan.engine.dialect.name == "sqlite"
    entry = '{"resource_ids":["\\ud800"]}' if sqlite else '{"ts":"no time"}'
    insert_entry = text("INSERT INTO access_log_entries (entry) VALUES (:entry) RETURNING seq")
    with shadan.engine.begin() as connection:
        seq = int(connection.execute(insert_entry, {"entry": entry}).scalar_one())
    body = client.get("/api/v1/audit/status", headers=auditor).json()
    assert (body["left_out_seqs"], body["more_left_out"]) == ([], False)  # not yet found
    shadan.audit_log.checkpoint()
    body = client.get("/api/v1/audit/status", headers=auditor).json()
    assert (body["left_out_seqs"], body["more_left_out"]) == ([seq], False)
    page_login(client, world, "auditor")
    page = client.get("/audit").text
    assert 'id="left-out"' in page
    assert f"木から外されたエントリがあります（連番 {seq}）" in page


def _table(content: bytes, fmt: str) -> list[list[str]]:
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        assert sheet is not None
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    text = content.decode("utf-8-sig" if fmt == "csv" else "cp932")
    return list(csv.reader(io.StringIO(text)))


# ---- Who gets nothing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["clerk", "retail", "sysadmin"])
def test_others_get_nothing_and_the_denial_is_logged(client: TestClient, world: World, key: str) -> None:
    _clerk_reads(client, world, POINT)
    token = bearer(world.login(key))
    before = len(_events(world.shadan))
    for route in ROUTES:
        response = client.get(route, headers=token)
        assert response.status_code == 403, route
        assert response.json()["error"] == "access_denied"
        assert "k.tanaka" not in response.text
    # A proof for an event that does not exist is refused the same way: existence is not revealed.
    assert client.get("/api/v1/audit/events/987654321/proof", headers=token).status_code == 403
    denials = [e for _, e in _events(world.shadan)[before:]]
    assert [(e.account_id, e.resource_type, e.outcome) for e in denials] == [
        (world.member(key).account_id, "access_log", "denied")
    ] * 5
    assert all(e.extra["refused"] == "not_permitted" for e in denials)


def test_the_regulator_sees_the_status_but_no_event(client: TestClient, world: World) -> None:
    _clerk_reads(client, world, POINT)
    token = bearer(world.login("regulator"))
    status = client.get("/api/v1/audit/status", headers=token)
    assert status.status_code == 200
    assert status.json()["events_total"] >= 1
    for route in ROUTES[1:]:
        assert client.get(route, headers=token).status_code == 403
    assert "k.tanaka" not in status.text


def test_status_shows_checkpoint_verification_and_cosignatures(
    client: TestClient, world: World, auditor: dict[str, str], clock: TestClock
) -> None:
    log = world.shadan.audit_log
    head = log.checkpoint()
    body = client.get("/api/v1/audit/status", headers=auditor).json()
    assert body["origin"] == head.origin
    assert body["latest_checkpoint"]["size"] == head.size
    assert body["tree_size"] == head.size
    assert body["events_total"] == body["tree_size"] + body["pending_events"] >= head.size
    assert body["deleted_events"] == 0
    assert body["cosignatures"] == []
    assert (body["witness_quorum"], body["witnessed_checkpoint"]) == (1, None)
    assert (body["verification_overdue"], body["leaves_since_verification"]) == (True, None)
    assert body["stalled_seq"] is None
    assert (body["left_out_seqs"], body["more_left_out"]) == ([], False)
    log.verify(run_by="e.yamada")
    body = client.get("/api/v1/audit/status", headers=auditor).json()
    run = body["last_verification"]
    assert (run["ok"], run["run_by"], run["findings"]) == (True, "e.yamada", [])
    assert (body["verification_overdue"], body["leaves_since_verification"]) == (False, 0)
    clock.advance(27 * 3600)  # past SHADAN_LOG_VERIFICATION_MAX_AGE_HOURS (26); the session ended too
    again = bearer(world.login("auditor"))
    body = client.get("/api/v1/audit/status", headers=again).json()
    # The events of the status reads above have waited 27 hours for a sequencer no test runs.
    assert (body["verification_overdue"], body["stalled_seq"] is not None) == (True, True)
    page_login(client, world, "auditor")
    page = client.get("/audit").text
    assert 'id="verification-overdue"' in page
    assert f"連番 {body['stalled_seq']} のイベントが 60 分以上" in page
    log.checkpoint()  # sequences them
    assert client.get("/api/v1/audit/status", headers=again).json()["stalled_seq"] is None


def test_status_names_the_newest_checkpoint_the_witnesses_cosigned(
    client: TestClient, world: World, auditor: dict[str, str], tmp_path: Path
) -> None:
    witness = build_witness(tmp_path / "witness")
    witness.init("egc.example.jp/witness")
    witness.trust(world.shadan.audit_log.public_key())
    cosigning = build_cosigning(world.shadan)
    cosigned = witness.add_checkpoint(cosigning.request(0))  # the offline hand-over, both sides real
    cosigning.import_cosigned(cosigned.cosigned_note, witness.public_key(), Actor.operator("auditor"))
    body = client.get("/api/v1/audit/status", headers=auditor).json()
    assert body["witnessed_checkpoint"]["size"] == cosigned.head.size
    assert [c["witness_name"] for c in body["cosignatures"]] == ["egc.example.jp/witness"]
    (standing,) = body["witnesses"]
    assert (standing["witness_name"], standing["asked"], standing["behind"]) == (
        "egc.example.jp/witness",
        False,
        0,
    )
    assert standing["newest"]["tree_size"] == cosigned.head.size
    assert body["quorum_out_of_reach"] is False
    page_login(client, world, "auditor")
    page = client.get("/audit")
    assert f"定足数の連署がある最新のチェックポイントは木のサイズ {cosigned.head.size:,}件" in page.text
    assert "取り込みのみ" in page.text
    assert "quorum-out-of-reach" not in page.text


def test_status_lists_the_witnesses_the_log_asks_even_before_they_cosign(
    db_url: str, tmp_path: Path, clock: TestClock
) -> None:
    """The witnesses of SHADAN_LOG_WITNESSES are on the page from the start: one that never answers is
    the one the auditors must see. A quorum of three with two witnesses can never be met: the page says so."""
    keys = []
    for name in ("egc.example.jp/witness", "audit.example.jp/witness"):
        witness = build_witness(tmp_path / name.split(".")[0])
        witness.init(name)
        keys.append(witness.public_key())
    listed = tmp_path / "witnesses.txt"
    listed.write_text(f"{keys[0]} http://127.0.0.1:9\n{keys[1]} http://127.0.0.1:9/w\n", encoding="utf-8")
    settings = make_settings(db_url, tmp_path / "home").model_copy(
        update={"log_witnesses": listed, "log_witness_quorum": 3}
    )
    shadan = build_container(settings, clock)
    try:
        world = build_world(shadan, clock)
        with TestClient(create_app(shadan), follow_redirects=False) as client:
            shadan.audit_log.checkpoint()
            body = client.get("/api/v1/audit/status", headers=bearer(world.login("auditor"))).json()
            assert [(w["witness_name"], w["asked"], w["newest"]) for w in body["witnesses"]] == [
                ("egc.example.jp/witness", True, None),
                ("audit.example.jp/witness", True, None),
            ]
            assert body["quorum_out_of_reach"] is True
            page_login(client, world, "auditor")
            page = client.get("/audit").text
            assert page.count("連署なし") == 2
            assert 'id="quorum-out-of-reach"' in page
    finally:
        shadan.close()


def test_hostile_filters_are_harmless(client: TestClient, world: World, auditor: dict[str, str]) -> None:
    _clerk_reads(client, world, POINT)
    for params in (
        {"account_id": "' OR '1'='1"},
        {"purpose": "%"},
        {"person_id": "p0000' --"},
        {"account_id": '") OR 1=1 --'},
    ):
        response = client.get("/api/v1/audit/events", params=params, headers=auditor)
        assert response.status_code == 200, params
        assert response.json()["events"] == []
    for params in (
        {"supply_point_id": "' OR 1=1 --"},
        {"date_from": "2025-13-01"},
        {"action": "view' OR 'x'='x"},
        {"account_id": "a\x00b"},
        {"before": "0"},
    ):
        response = client.get("/api/v1/audit/events", params=params, headers=auditor)
        assert response.status_code == 422, params
        assert response.json()["error"] == "invalid_input"
    assert client.get("/api/v1/audit/events/1%3BDROP/proof", headers=auditor).status_code == 422
    assert _seq_of_clerk_view(world.shadan, POINT)  # nothing was lost


# ---- The pages ------------------------------------------------------------------------------------------


def test_auditor_pages_search_and_download(client: TestClient, world: World) -> None:
    _clerk_reads(client, world, POINT)
    seq = _seq_of_clerk_view(world.shadan, POINT)
    page_login(client, world, "auditor")
    home = client.get("/")
    assert 'href="/audit"' in home.text
    page = client.get("/audit/events", params={"supply_point_id": HYPHENATED, "purpose": "託送業務"})
    assert page.status_code == 200
    assert "アクセスログの検索" in page.text
    assert "k.tanaka" in page.text
    assert "関西電力送配電株式会社" in page.text
    assert "日本時間" in page.text
    assert f'href="/audit/events/{seq}/proof"' in page.text
    for label, fmt in (("CSV（UTF-8）", "csv"), ("CSV（Shift_JIS）", "csv-cp932"), ("Excel", "xlsx")):
        query = (
            f"supply_point_id={HYPHENATED}&amp;purpose=%E8%A8%97%E9%80%81%E6%A5%AD%E5%8B%99&amp;format={fmt}"
        )
        assert f'href="/audit/events/export?{query}">{label}' in page.text
    export = client.get("/audit/events/export", params={"supply_point_id": HYPHENATED, "format": "csv-cp932"})
    assert export.status_code == 200
    assert POINT in export.content.decode("cp932")
    proof = client.get(f"/audit/events/{seq}/proof")
    key = world.shadan.audit_log.public_key()
    assert json.loads(build_proof_checker().check(proof.content, [key]).entry)["seq"] == seq
    status = client.get("/audit")
    assert status.status_code == 200
    for heading in ("アクセスログの状態", "最新のチェックポイント", "最後の検証", "証人の連署"):
        assert heading in status.text
    assert "定足数: 証人 1 人の連署。定足数の連署があるチェックポイントはまだありません。" in status.text


def test_a_bad_filter_comes_back_on_the_form(client: TestClient, world: World) -> None:
    page_login(client, world, "auditor")
    page = client.get("/audit/events", params={"supply_point_id": "12345", "account_id": "<b>x</b>"})
    assert page.status_code == 422
    assert "供給地点特定番号は22桁の数字で入力してください。" in page.text
    assert 'value="12345"' in page.text
    assert "<b>x</b>" not in page.text  # escaped


def _app_with_review(shadan: Any, *, time_limit: float = 10.0, export_cap: int = 10_000) -> Any:
    review = AuditReviewService(
        SqlLogSearch(shadan.engine, time_limit_seconds=time_limit),
        shadan.audit_log,
        shadan.uow,
        UnitOfWorkLogSink(shadan.uow),
        shadan.catalog,
        "shadan",
        verification_max_age=dt.timedelta(hours=shadan.settings.log_verification_max_age_hours),
        sequencing_max_wait=dt.timedelta(minutes=shadan.settings.log_sequencing_max_wait_minutes),
        export_cap=export_cap,
    )
    return create_app(replace(shadan, audit_review=review))


def test_the_page_says_when_an_export_is_capped(shadan: Any, world: World) -> None:
    with TestClient(_app_with_review(shadan, export_cap=2), follow_redirects=False) as client:
        page_login(client, world, "auditor")  # leaves more than two events
        page = client.get("/audit/events")
        assert "2件を超えるため、ダウンロードは新しい順に2件までです" in page.text
        export = client.get("/audit/events/export", params={"format": "csv"})
        assert export.headers["x-shadan-export-capped"] == "true"
        assert len(export.content.decode("utf-8-sig").strip().split("\r\n")) == 3


def test_a_search_too_broad_for_its_time_limit_asks_for_a_narrower_one(shadan: Any, world: World) -> None:
    with TestClient(_app_with_review(shadan, time_limit=0.001), follow_redirects=False) as client:
        page_login(client, world, "auditor")
        with shadan.engine.connect() as connection:
            seq, entry = connection.execute(select(access_log_entries).limit(1)).one()
        logged = _event(seq, entry)
        UnitOfWorkLogSink(shadan.uow).record([replace(logged, event_id=f"bulk-{n}") for n in range(5000)])
        nobody = {"purpose": "誰も使わない目的"}  # no index: every event is read
        page = client.get("/audit/events", params=nobody)
        assert page.status_code == 422
        assert "制限時間内に終わらなかったため中止しました" in page.text
        assert 'value="誰も使わない目的"' in page.text  # the form comes back as typed
        api = client.get("/api/v1/audit/events", params=nobody, headers=bearer(world.login("auditor")))
        assert (api.status_code, api.json()["error"]) == (422, "search_too_broad")


@pytest.mark.parametrize("key", ["clerk", "regulator"])
def test_no_event_pages_for_others(client: TestClient, world: World, key: str) -> None:
    page_login(client, world, key)
    home = client.get("/")
    assert ('href="/audit"' in home.text) is (key == "regulator")
    assert client.get("/audit/events").status_code == 403
    assert client.get("/audit/events/export", params={"format": "xlsx"}).status_code == 403
    assert client.get("/audit/events/1/proof").status_code == 403
    assert client.get("/audit").status_code == (200 if key == "regulator" else 403)


def test_pages_need_a_session(client: TestClient, world: World) -> None:
    for path in ("/audit", "/audit/events", "/audit/events/export?format=csv", "/audit/events/1/proof"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
