"""廃止取次 and 開始申込 over HTTP (JSON API and pages) as the clerk of area 06, and as those who may not."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from world import JST, POINTS, TestClient, World, bearer, csrf_from, page_login

from shadan.api import switching as switching_api
from shadan.services import switching_desk
from shadan.services.switching_rows import APPLICATION_COLUMNS, START_COLUMNS

SUBMISSIONS = "/api/v1/switching/submissions"
OURS = POINTS["demand_affiliated"]
THEIRS = POINTS["other_area"]  # area 03
UNKNOWN = "0600009999999999999999"


def _cancel(world: World, app_id: str, supply_point_id: str, **changes: str) -> dict[str, str]:
    received = world.clock().astimezone(JST)
    return {
        "application_id": app_id,
        "received_at": received.isoformat(timespec="seconds"),
        "supply_point_id": supply_point_id,
        "current_retailer_code": OURS.retailer_code,
        "contract_no": OURS.contract_no,
        "address": OURS.address,
        "building": OURS.building,
        "name_kana": OURS.name_kana,
        "name_kanji": OURS.name_kanji,
        "cancel_date": (received.date() + dt.timedelta(days=20)).isoformat(),
        "new_retailer_code": "R1001",
        "new_retailer_staff": "営業 花子",
        "new_retailer_phone": "03-1111-2222",
        **changes,
    }


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    return out.getvalue().encode(encoding)


def applications(world: World) -> bytes:
    return _csv(
        APPLICATION_COLUMNS,
        [
            _cancel(world, "AP-1", OURS.supply_point_id),
            # Another area's point, with its real contract data: answered exactly as an unknown id.
            _cancel(
                world,
                "AP-2",
                THEIRS.supply_point_id,
                current_retailer_code=THEIRS.retailer_code,
                contract_no=THEIRS.contract_no,
                address=THEIRS.address,
                name_kana=THEIRS.name_kana,
                name_kanji=THEIRS.name_kanji,
                new_retailer_code="A0601",
            ),
            _cancel(world, "AP-3", UNKNOWN),
        ],
    )


def starts(world: World) -> bytes:
    cancel = _cancel(world, "ST-1", OURS.supply_point_id)
    row = {**cancel, "start_date": cancel["cancel_date"]}
    return _csv(START_COLUMNS, [row])


def post_file(client: TestClient, url: str, token: str, data: bytes, **params: Any) -> Any:
    files = {"file": ("申込.csv", data, "text/csv")}
    return client.post(url, files=files, params=params, headers=bearer(token))


def logged(world: World, key: str) -> list[tuple[str, str, dict[str, Any]]]:
    with world.shadan.uow("system") as uow:
        events = uow.log_reader.events_of_account(world.member(key).account_id, 50)
    # Only switching events carry a JSON detail; session events carry their tag as text.
    return [
        (e.action.value, e.outcome.value, json.loads(e.detail)) for e in events if e.detail.startswith("{")
    ]


def test_clerk_submits_and_reads_the_results_back(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    response = post_file(client, SUBMISSIONS, token, applications(world).decode().encode("cp932"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["encoding"] == "cp932"
    assert body["file_name"] == "申込.csv"
    assert body["by_result"] == {"accepted": 1, "rejected": 2, "invalid": 0}
    ap1, ap2, ap3 = body["results"]
    assert (ap1["result"], ap1["state"]) == ("accepted", "pending")
    # The other area's point is answered exactly as an id that does not exist.
    assert (
        (ap2["error_code"], ap2["message"]) == ("01", ap3["message"]) == (ap3["error_code"], ap3["message"])
    )
    status = client.get(f"/api/v1/switching/supply-points/{OURS.supply_point_id}", headers=bearer(token))
    assert status.json()["status"] == "pending_cancellation"

    submission_id = body["submission_id"]
    url = f"{SUBMISSIONS}/{submission_id}/results"
    utf8 = client.get(url, params={"format": "csv"}, headers=bearer(token))
    assert utf8.status_code == 200
    assert utf8.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(utf8.content.decode("utf-8-sig"))))
    assert table[0] == ["行", "申込番号", "結果", "エラーコード", "エラーコード（すべて）", "内容", "状態"]
    assert [(r[1], r[2], r[3], r[6]) for r in table[1:]] == [
        ("AP-1", "受付可", "", "マッチング待ち"),
        ("AP-2", "エラー", "01", "エラー"),
        ("AP-3", "エラー", "01", "エラー"),
    ]
    sjis = client.get(url, params={"format": "csv-cp932"}, headers=bearer(token))
    assert list(csv.reader(io.StringIO(sjis.content.decode("cp932")))) == table
    xlsx = client.get(url, params={"format": "xlsx"}, headers=bearer(token))
    assert "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).worksheets[0]
    cells = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [[str(c) for c in row] for row in cells] == table


def test_a_start_matches_and_the_status_shows_the_history(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    assert post_file(client, SUBMISSIONS, token, applications(world)).status_code == 201
    started = post_file(client, "/api/v1/switching/starts", token, starts(world))
    assert started.status_code == 201, started.text
    assert started.json()["results"][0]["state"] == "matched"
    status = client.get(
        f"/api/v1/switching/supply-points/{OURS.supply_point_id}", headers=bearer(token)
    ).json()
    assert status["status"] == "locked"
    assert [(h["application_id"], h["state"]) for h in status["history"]] == [
        ("AP-1", "pending"),
        ("ST-1", "pending"),
        ("ST-1", "matched"),
        ("AP-1", "matched"),
    ]
    assert all(h["changed_by"] == "k.tanaka" for h in status["history"])


def test_another_areas_point_and_an_unknown_one_answer_the_same_404(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    answers = [
        client.get(f"/api/v1/switching/supply-points/{point}", headers=bearer(token))
        for point in (THEIRS.supply_point_id, UNKNOWN)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    # Another area's clerk sees neither the submission nor its results.
    submitted = post_file(client, SUBMISSIONS, token, applications(world)).json()["submission_id"]
    other = world.login("clerk03")
    assert client.get(f"{SUBMISSIONS}/{submitted}", headers=bearer(other)).status_code == 404
    export = client.get(f"{SUBMISSIONS}/{submitted}/results", params={"format": "csv"}, headers=bearer(other))
    assert export.status_code == 404


def test_a_replayed_file_is_refused(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    data = applications(world)
    assert post_file(client, SUBMISSIONS, token, data).status_code == 201
    again = client.post(SUBMISSIONS, content=data, headers={**bearer(token), "Content-Type": "text/csv"})
    assert again.status_code == 422
    assert again.json()["error"] == "replayed_submission"
    assert "既に登録されています" in again.json()["message"]


@pytest.mark.parametrize("key", ["retail", "affiliated", "sysadmin", "engineer", "auditor"])
def test_others_are_refused_and_the_refusal_is_logged(client: TestClient, world: World, key: str) -> None:
    token = world.login(key)
    upload = post_file(client, SUBMISSIONS, token, applications(world))
    status = client.get(f"/api/v1/switching/supply-points/{OURS.supply_point_id}", headers=bearer(token))
    assert (upload.status_code, status.status_code) == (403, 403)
    assert upload.json()["error"] == "access_denied"
    refusals = [(a, d["tag"]) for a, o, d in logged(world, key) if o == "denied"]
    assert ("update", "switching:refused") in refusals
    assert ("view", "switching:refused") in refusals
    clerk = world.login("clerk")
    ours = client.get(f"/api/v1/switching/supply-points/{OURS.supply_point_id}", headers=bearer(clerk))
    assert ours.json()["applications"] == []  # nothing was stored


def test_a_file_over_the_limit_is_refused_unread(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(switching_api, "MAX_UPLOAD_BYTES", 100)
    monkeypatch.setattr(switching_desk, "MAX_UPLOAD_BYTES", 100)
    token = world.login("clerk")
    response = client.post(
        SUBMISSIONS, content=applications(world), headers={**bearer(token), "Content-Type": "text/csv"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "upload_too_large"


def test_a_wrong_file_gets_a_clear_error(client: TestClient, world: World) -> None:
    token = world.login("clerk")
    wrong = post_file(client, SUBMISSIONS, token, "氏名,住所\r\n山田,大阪\r\n".encode())
    assert wrong.status_code == 422
    assert "不明な列です" in wrong.json()["message"]
    assert "必須の列がありません" in wrong.json()["message"]
    no_file = client.post(SUBMISSIONS, data={"other": "x"}, files={"x": ("a", b"")}, headers=bearer(token))
    assert no_file.status_code == 422
    assert "file" in no_file.json()["message"]


# ---- Pages --------------------------------------------------------------------------------------------


def _upload(client: TestClient, data: bytes, csrf: str | None, strict: bool = False) -> Any:
    fields = {"csrf_token": csrf} if csrf is not None else {}
    if strict:
        fields["strict"] = "on"
    return client.post("/switching/submissions", data=fields, files={"file": ("apps.csv", data, "text/csv")})


def test_the_upload_page_stores_and_shows_the_results(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    form = client.get("/switching")
    assert form.status_code == 200
    assert "廃止取次の申込登録" in form.text
    response = _upload(client, applications(world), csrf_from(form.text))
    assert response.status_code == 303
    results = client.get(response.headers["location"])
    assert results.status_code == 200
    for text in (
        "申込番号",
        "結果",
        "エラーコード",
        "内容",
        "AP-1",
        "受付可",
        "マッチング待ち",
        "供給地点特定番号エラー",
    ):
        assert text in results.text
    for fmt in ("csv", "csv-cp932", "xlsx"):
        assert f"/download?format={fmt}" in results.text
    download = client.get(response.headers["location"] + "/download", params={"format": "csv"})
    assert download.status_code == 200
    assert "AP-3" in download.content.decode("utf-8-sig")
    status = client.get(f"/switching/supply-points/{OURS.supply_point_id}")
    assert "廃止受付中" in status.text
    assert "k.tanaka" in status.text


@pytest.mark.parametrize("csrf", [None, "forged"])
def test_an_upload_without_the_csrf_token_changes_nothing(
    client: TestClient, world: World, csrf: str | None
) -> None:
    page_login(client, world, "clerk")
    response = _upload(client, applications(world), csrf)
    assert response.status_code == 403
    with world.shadan.uow() as uow:
        assert uow.switching.rows_on(OURS.supply_point_id) == []


def test_the_pages_refuse_retail_staff(client: TestClient, world: World) -> None:
    page_login(client, world, "retail")
    assert client.get("/switching").status_code == 403
    assert client.get(f"/switching/supply-points/{OURS.supply_point_id}").status_code == 403
    form_token = csrf_from(client.get("/").text)
    assert _upload(client, applications(world), form_token).status_code == 403


def test_the_upload_page_explains_a_wrong_file(client: TestClient, world: World) -> None:
    page_login(client, world, "clerk")
    csrf = csrf_from(client.get("/switching").text)
    response = _upload(client, "氏名\r\n山田\r\n".encode(), csrf)
    assert response.status_code == 422
    assert "不明な列です" in response.text
    assert "application_id" in response.text
