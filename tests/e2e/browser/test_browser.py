"""A person at a browser: log in with TOTP, look up a record for a purpose, see which categories are
withheld; a retail company's employee sees no non-public field anywhere."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import SCREENSHOT_DIR, log_in
from world import World, values_of

from shadan.domain.registry import SUPPLY_POINT_FIELDS

pytestmark = pytest.mark.browser

WITHHELD = "非表示（権限なし）"


def _look_up(page: Any, supply_point_id: str, purpose: str | None) -> None:
    form = page.locator("form[action='/supply-points']")
    form.get_by_label("供給地点特定番号", exact=True).fill(supply_point_id)
    if purpose is not None:
        form.get_by_label("利用目的", exact=True).select_option(purpose)
    form.get_by_role("button", name="照会").click()


def _customer_values(world: World) -> list[str]:
    names = tuple(n for n in SUPPLY_POINT_FIELDS if n not in ("supply_point_id", "kind", "voltage", "status"))
    return [v for point in world.points.values() for v in values_of(point, names)]


def test_clerk_logs_in_with_totp_and_sees_withheld_categories(
    page: Any, live_server: str, world: World
) -> None:
    log_in(page, live_server, world, "clerk")
    _look_up(page, "0600-0011-1122-2233-3344-44", "託送業務")  # typed with hyphens, as people do

    page.wait_for_url("**/supply-points/*")
    assert page.get_by_role("heading", name="0600 0011 1122 2233 3344 44").is_visible()
    contract = page.locator("section.category", has=page.get_by_role("heading", name="新電力顧客情報"))
    assert "山田 太郎" in contract.inner_text()
    for label in ("設備情報", "系統情報"):
        section = page.locator("section.category", has=page.get_by_role("heading", name=label))
        assert section.locator(".category__withheld").inner_text() == WITHHELD
        assert section.locator("dl").count() == 0
    html = page.content()
    for hidden in ("TR-06-4711", "FD-KITA-0312"):
        assert hidden not in html
    page.screenshot(path=str(SCREENSHOT_DIR / "shadan-record.png"), full_page=True)

    page.get_by_role("link", name="自分のアクセス履歴").click()
    row = page.locator("tbody tr").first
    assert "照会" in row.inner_text()
    assert "託送業務" in row.inner_text()

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")
    page.goto(f"{live_server}/me/history")
    assert page.url.endswith("/login")


def test_engineer_search_shows_no_names(page: Any, live_server: str, world: World) -> None:
    log_in(page, live_server, world, "engineer")
    form = page.locator("form[action='/search']")
    form.get_by_label("検索項目", exact=True).select_option("address")
    form.get_by_label("検索語", exact=True).fill("中之島")
    form.get_by_label("利用目的", exact=True).select_option("設備保全")
    form.get_by_role("button", name="検索").click()
    page.wait_for_url("**/search?*")
    assert page.locator("tbody tr").count() == 1
    assert WITHHELD in page.locator("tbody tr").inner_text()
    for hidden in ("山田", "ヤマダ", "KC-7788-0001", "06-6441-8821"):
        assert hidden not in page.content()


def test_retail_employee_sees_no_non_public_field(page: Any, live_server: str, world: World) -> None:
    log_in(page, live_server, world, "retail")
    own = world.point_id("demand_new")  # a customer of this very retailer

    # The own-contracts setting is off: the form offers no purpose that could open the record ...
    assert page.locator('option[value="自社契約確認"]').count() == 0
    # ... and the address typed in by hand is refused like an unknown record.
    page.goto(f"{live_server}/supply-points/{own}?purpose=自社契約確認")
    assert page.get_by_role("heading", name="見つかりません").is_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "shadan-retail-denied.png"), full_page=True)

    for path in (
        f"/supply-points/{own}?purpose=託送業務",
        f"/supply-points/{world.point_id('demand_affiliated')}?purpose=自社契約確認",
        "/search?field=name_kanji&q=鈴木&purpose=自社契約確認",
        "/search?field=address&q=大阪&purpose=託送業務",
    ):
        page.goto(f"{live_server}{path}")
        html = page.content()
        for value in _customer_values(world):
            assert value not in html, f"{value!r} shown to a retail employee at {path}"
