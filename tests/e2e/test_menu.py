"""The header menu shows each person the pages their roles open, and no others."""

from __future__ import annotations

import re

import pytest
from world import TestClient, World, page_login

LINKS = {
    "/switching": "廃止取次",
    "/switching/statistics": "スイッチング統計",
    "/switching/fraud-signals": "不正の兆候",
    "/audit": "アクセスログ監査",
}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("clerk", {"/switching", "/switching/statistics", "/switching/fraud-signals"}),
        ("auditor", {"/switching/fraud-signals", "/audit"}),
        ("regulator", {"/switching/statistics", "/audit"}),
        ("engineer", set()),
        ("sysadmin", set()),
        ("retail", set()),
        ("affiliated", set()),
    ],
)
def test_menu_links_follow_the_roles(client: TestClient, world: World, key: str, expected: set[str]) -> None:
    page_login(client, world, key)
    html = client.get("/").text
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S)
    assert nav is not None
    shown = {href for href in LINKS if f'href="{href}"' in nav.group(0)}
    assert shown == expected
    for href in expected:
        assert LINKS[href] in nav.group(0)
