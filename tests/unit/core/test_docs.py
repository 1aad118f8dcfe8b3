"""Docs are checked by tests: every setting is documented with its exact description."""

from __future__ import annotations

from pathlib import Path

from shadan.config import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        row = next((line for line in text.splitlines() if f"`SHADAN_{name.upper()}`" in line), None)
        assert row is not None, f"SHADAN_{name.upper()} is missing from docs/settings.md"
        assert str(field.description) in row


def test_no_documented_setting_is_stale() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    documented = {
        cell.strip("` ")
        for line in text.splitlines()
        if line.startswith("| `SHADAN_")
        for cell in [line.split("|")[1]]
    }
    assert documented == {f"SHADAN_{name.upper()}" for name in Settings.model_fields}
