"""In Chromium, with the real security headers (CSP default-src 'self'): the statistics page's chart, an
SVG drawn on the server, loads and renders."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import SCREENSHOT_DIR, log_in
from switching_stats_data import submit_applications
from world import World

pytestmark = pytest.mark.browser


def test_the_statistics_chart_loads_under_the_content_security_policy(
    page: Any, live_server: str, world: World
) -> None:
    blocked: list[str] = []  # what the content security policy refused
    failed: list[str] = []  # answers other than success (the browser's own favicon request aside)
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on(
        "response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None
    )
    submit_applications(world)
    log_in(page, live_server, world, "clerk")

    page.goto(f"{live_server}/switching/statistics")
    assert page.get_by_role("heading", name="スイッチング統計").is_visible()
    chart = page.locator("img[src^='/switching/statistics/chart.svg']")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector(\"img[src^='/switching/statistics/chart.svg']\").complete")
    assert chart.evaluate("img => img.naturalWidth") > 0
    assert chart.evaluate("img => img.naturalHeight") > 0
    assert (blocked, failed) == ([], [])
    page.screenshot(path=str(SCREENSHOT_DIR / "shadan-switching-statistics.png"), full_page=True)
