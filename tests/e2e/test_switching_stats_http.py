"""Switching statistics and fraud signals over HTTP, on applications stored by the submit service (the
one `shadan switching submit` calls): pages, chart, downloads, JSON, and who may see what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from switching_stats_data import HIDDEN_IN_STATS, LANDLORD, submit_applications
from world import JST, TestClient, World, bearer, page_login

from shadan.domain.vocabulary import Outcome, ResourceType


@pytest.fixture
def stored(world: World) -> World:
    return submit_applications(world)


def _denials(world: World, key: str) -> list[Any]:
    with world.shadan.uow("system") as uow:
        events = uow.log_reader.events_of_account(world.member(key).account_id, 50)
    return [e for e in events if e.resource_type == ResourceType.SWITCHING and e.outcome is Outcome.DENIED]


def _json(client: TestClient, world: World, key: str, path: str) -> Any:
    return client.get(f"/api/v1/switching/{path}", headers=bearer(world.login(key)))


# ---- Statistics -----------------------------------------------------------------------------------------


def test_the_clerk_sees_their_areas_statistics_as_json(client: TestClient, stored: World) -> None:
    response = _json(client, stored, "clerk", "statistics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["area"] == "06"
    total = body["total"]
    assert (total["applications"], total["accepted"], total["rejected"], total["invalid"]) == (3, 1, 2, 0)
    codes = {c["code"]: c for c in total["codes"]}
    assert (codes["02"]["count"], codes["02"]["share_percent"], codes["02"]["label"]) == (
        1,
        50.0,
        "契約番号不一致エラー",
    )
    assert (codes["04"]["count"], codes["04"]["share"]) == (1, 0.5)
    assert codes["01"]["share_percent"] == 0.0
    normalisation = total["normalisation"]
    assert normalisation["avoided_name"] >= 1  # E2E-01's kana in hiragana
    assert normalisation["avoided_rejections"] == normalisation["strict_rejected"] - normalisation["rejected"]
    assert len(body["periods"]) == 12
    assert not any(hidden in response.text for hidden in HIDDEN_IN_STATS)


def test_the_regulator_sees_every_area_or_one(client: TestClient, stored: World) -> None:
    everything = _json(client, stored, "regulator", "statistics").json()
    tokyo = _json(client, stored, "regulator", "statistics?area=03&period=week").json()
    assert (everything["area"], everything["total"]["applications"]) == (None, 4)
    assert (tokyo["area"], tokyo["period"], tokyo["total"]["applications"]) == ("03", "week", 1)


def test_the_other_areas_clerk_sees_only_theirs(client: TestClient, stored: World) -> None:
    body = _json(client, stored, "clerk03", "statistics").json()
    assert (body["area"], body["total"]["applications"], body["total"]["accepted"]) == ("03", 1, 1)
    refused = _json(client, stored, "clerk03", "statistics?area=06")
    assert refused.status_code == 403


@pytest.mark.parametrize("key", ["auditor", "engineer", "sysadmin", "retail", "affiliated"])
def test_statistics_are_refused_to_everyone_else_and_logged(
    client: TestClient, stored: World, key: str
) -> None:
    response = _json(client, stored, key, "statistics")
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert len(_denials(stored, key)) == 1


@pytest.mark.parametrize(
    "query",
    ["from=2025-05-01&to=2025-04-01", "from=2024-01-01&to=2025-03-01", "from=2001-01-01&to=2001-02-01"],
)
def test_a_bad_range_is_a_422_naming_the_problem(client: TestClient, stored: World, query: str) -> None:
    response = _json(client, stored, "clerk", f"statistics?{query}")
    assert response.status_code == 422
    assert "期間" in response.json()["message"] or "終了日" in response.json()["message"]
    assert len(_denials(stored, "clerk")) == 1


def test_the_page_shows_the_seed_style_table_chart_and_downloads(client: TestClient, stored: World) -> None:
    page_login(client, stored, "clerk")
    page = client.get("/switching/statistics")
    assert page.status_code == 200
    html = page.text
    for text in (
        "スイッチング統計",
        "コード",
        "項目名",
        "件数",
        "エラー原因の比率",
        "名義不一致エラー",
        "50.0%",
        "正規化の効果",
        "<td>04 名義不一致</td>",  # the rows of the --strict comparison
        "<td>05 住所不一致</td>",
    ):
        assert text in html
    assert '<img src="/switching/statistics/chart.svg?from=' in html
    for fmt in ("csv", "csv-cp932", "xlsx"):
        assert f"/switching/statistics/download?format={fmt}&amp;from=" in html
    assert not any(hidden in html for hidden in HIDDEN_IN_STATS)
    assert 'name="area"' not in html  # only the regulator chooses an area


def test_the_chart_is_an_svg_with_japanese_text_and_no_script(client: TestClient, stored: World) -> None:
    page_login(client, stored, "clerk")
    today = stored.clock().astimezone(JST).date()
    chart = client.get(f"/switching/statistics/chart.svg?from={(today - dt.timedelta(days=30)).isoformat()}")
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.headers["x-content-type-options"] == "nosniff"
    assert chart.headers["cache-control"] == "no-store"
    svg = chart.text
    assert svg.lstrip().startswith("<?xml")
    assert ">04 名義不一致エラー</text>" in svg  # text, not paths: the browser draws it with the page's fonts
    assert "Noto Sans CJK JP" in svg
    assert "<script" not in svg
    assert set(re.findall(r"https?://[^/]+", svg)) == {"http://www.w3.org"}  # namespaces, nothing fetched


def test_downloads_hold_the_same_figures(client: TestClient, stored: World) -> None:
    page_login(client, stored, "clerk")
    utf8 = client.get("/switching/statistics/download?format=csv")
    assert utf8.headers["content-type"].startswith("text/csv")
    assert 'filename="switching-statistics-' in utf8.headers["content-disposition"]
    assert utf8.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(utf8.content.decode("utf-8-sig"))))
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert (total["期間"], total["申込件数"], total["エラー"]) == ("全期間", "3", "2")
    assert total["04 名義不一致エラー エラー原因の比率（%）"] == "50.0"
    sjis = client.get("/switching/statistics/download?format=csv-cp932")
    assert "名義不一致エラー" in sjis.content.decode("cp932")
    xlsx = client.get("/switching/statistics/download?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    last = dict(zip(values[0], values[-1], strict=True))
    assert (last["期間"], last["申込件数"], last["02 契約番号不一致エラー 件数"]) == ("全期間", 3, 1)
    with stored.shadan.uow("system") as uow:
        events = uow.log_reader.events_of_account(stored.member("clerk").account_id, 20)
    exports = [e for e in events if e.resource_type == ResourceType.SWITCHING and e.action == "export"]
    assert len(exports) == 3


def test_a_bad_date_on_the_page_shows_the_form_again(client: TestClient, stored: World) -> None:
    page_login(client, stored, "clerk")
    page = client.get("/switching/statistics?from=2025-13-45")
    assert page.status_code == 422
    assert "開始日（from）は YYYY-MM-DD" in page.text
    assert 'action="/switching/statistics"' in page.text


def test_pages_without_a_session_go_to_login(client: TestClient, stored: World) -> None:
    for path in ("/switching/statistics", "/switching/statistics/chart.svg", "/switching/fraud-signals"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_the_regulator_page_offers_the_area(client: TestClient, stored: World) -> None:
    page_login(client, stored, "regulator")
    html = client.get("/switching/statistics?area=03").text
    assert 'name="area"' in html
    assert '<option value="03" selected>' in html
    assert "東京電力パワーグリッド" in html


def test_a_retail_employee_gets_the_error_page(client: TestClient, stored: World) -> None:
    page_login(client, stored, "retail")
    assert client.get("/switching/statistics").status_code == 403
    assert client.get("/switching/statistics/chart.svg").status_code == 403
    assert client.get("/switching/statistics/download?format=xlsx").status_code == 403
    assert len(_denials(stored, "retail")) == 3


# ---- Fraud signals ---------------------------------------------------------------------------------------


def test_the_clerk_sees_the_landlord_signal_with_its_supply_point(client: TestClient, stored: World) -> None:
    response = _json(client, stored, "clerk", "fraud-signals")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["area"], body["applications"]) == ("06", 3)
    [signal] = body["signals"]
    assert signal["heuristic"] == "utilities_included"
    assert signal["supply_point_ids"] == [LANDLORD.supply_point_id]
    assert signal["application_ids"] == ["E2E-02"]
    assert "光熱費込み" in signal["reason"]
    assert LANDLORD.name_kanji not in response.text  # the holder's name is never shown
    with stored.shadan.uow("system") as uow:
        [event, *_] = uow.log_reader.events_of_account(stored.member("clerk").account_id, 5)
    assert event.resource_type == ResourceType.SWITCHING
    assert event.resource_ids == (LANDLORD.supply_point_id,)


def test_the_auditor_sees_the_signal_without_the_supply_point(client: TestClient, stored: World) -> None:
    body = _json(client, stored, "auditor", "fraud-signals").json()
    [signal] = body["signals"]
    assert (signal["supply_point_ids"], signal["application_ids"]) == ([], ["E2E-02"])
    page_login(client, stored, "auditor")
    html = client.get("/switching/fraud-signals").text
    assert LANDLORD.supply_point_id not in html
    assert "0600 0022 2233 3344 4400 01" not in html
    assert "非表示（権限なし）" in html


@pytest.mark.parametrize("key", ["regulator", "engineer", "sysadmin", "retail", "affiliated"])
def test_fraud_signals_are_refused_to_everyone_else(client: TestClient, stored: World, key: str) -> None:
    response = _json(client, stored, key, "fraud-signals")
    assert response.status_code == 403
    assert len(_denials(stored, key)) == 1


def test_the_fraud_page_groups_the_signals_and_explains_each_heuristic(
    client: TestClient, stored: World
) -> None:
    page_login(client, stored, "clerk")
    page = client.get("/switching/fraud-signals")
    assert page.status_code == 200
    html = page.text
    for text in (
        "申込件数が突出している担当者（0件）",
        "取下げ・期限切れが多い担当者",
        "契約番号・名義の不一致が集中している担当者",
        "光熱費込み賃貸物件の可能性（1件）",
        "自動的な判定ではありません",
        "修正zスコア",
        "0600 0022 2233 3344 4400 01",
        "E2E-02",
    ):
        assert text in html
    assert LANDLORD.name_kanji not in html
