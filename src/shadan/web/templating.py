"""The Jinja2 environment of the pages: autoescaped, with JST time and Japanese value filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from shadan.domain.japan_time import in_japan
from shadan.domain.switching import ErrorCode
from shadan.web.labels import value_label

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


def jst(moment: dt.datetime | None, fmt: str = "%Y/%m/%d %H:%M:%S") -> str:
    """Stored times are UTC; people read Japan time."""
    return "" if moment is None else in_japan(moment).strftime(fmt)


def spaced_id(supply_point_id: str) -> str:
    """22 digits are hard to read aloud over the phone: show them in groups of four."""
    return " ".join(supply_point_id[i : i + 4] for i in range(0, len(supply_point_id), 4))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jst"] = jst
    env.filters["label"] = value_label
    env.filters["spaced_id"] = spaced_id
    env.globals["error_codes"] = ErrorCode  # 廃止取次 error codes and their names, from the domain
    return env


ENVIRONMENT = _environment()


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENVIRONMENT.get_template(template).render(**context), status_code=status_code)
