"""An internal auditor at a browser: log in with TOTP, open the access-log search from the home page,
search by supply point and see who viewed it."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import SCREENSHOT_DIR, log_in
from world import World

from shadan.domain.access import RequestContext

pytestmark = pytest.mark.browser

POINT = "0600001111222233334444"


def test_auditor_searches_who_viewed_a_supply_point(page: Any, live_server: str, world: World) -> None:
    shadan = world.shadan
    clerk = shadan.auth.authenticate(world.login("clerk"))
    shadan.vault.read(clerk, POINT, RequestContext(now=world.clock(), purpose="託送業務"))

    log_in(page, live_server, world, "auditor")

    page.get_by_role("link", name="アクセスログの検索").click()
    page.get_by_label("供給地点特定番号", exact=True).fill("0600-0011-1122-2233-3344-44")
    page.get_by_role("button", name="検索").click()
    page.wait_for_url("**/audit/events?*")
    row = page.locator("tbody tr").first
    assert "k.tanaka" in row.inner_text()
    assert "託送業務" in row.inner_text()
    assert row.get_by_role("link", name="証明ファイル").is_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "shadan-audit-events.png"), full_page=True)
