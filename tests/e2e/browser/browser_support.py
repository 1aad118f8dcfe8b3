"""Helpers of the browser tests: logging in through the pages as a person does, and where screenshots go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from world import PASSWORD, World

# Screenshots for a person to look at (e.g. after changing the styles); the system temp dir by default.
SCREENSHOT_DIR = Path(os.environ.get("SHADAN_SCREENSHOT_DIR") or tempfile.gettempdir())


def log_in(page: Any, base: str, world: World, key: str) -> None:
    """From the login page the browser is sent to, through the TOTP step if asked, to the home page."""
    page.goto(f"{base}/")
    assert page.url.endswith("/login")  # no session: the browser is sent to the login page
    page.get_by_label("アカウントID", exact=True).fill(world.member(key).account_id)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    if page.url.endswith("/login/mfa"):
        page.get_by_label("確認コード", exact=True).fill(world.totp(key))
        page.get_by_role("button", name="確認").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="供給地点照会").is_visible()
