"""Schemathesis over the OpenAPI spec, authenticated with a bearer token: no input makes the API answer
5xx, and every answer matches the documented schema and status codes (so the spec is exact).

Each operation is fuzzed in both of schemathesis' modes: valid input (positive) and input that breaks
the spec (negative, which must be refused with a 4xx).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi import checks as openapi_checks
from world import PASSWORD, World, bearer

from shadan.api.routes import api_router
from shadan.web.app import create_app

# Enough to cover every parameter of every operation in both modes, short enough for every `make test`.
MAX_EXAMPLES = 60


def _operations() -> list[tuple[str, str]]:
    """Every operation of the API, read from its own spec (a route added later is fuzzed too)."""
    app = FastAPI()
    app.include_router(api_router)
    paths = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


OPERATIONS = _operations()

# Checks that cannot hold by design, each with its reason:
# - a supply point id is "22 digits after NFKC and removing separators, area 01-10": no JSON Schema
#   pattern says that exactly, so schema-valid strings can still be a (clear) 422;
# - a switching file's validity (encoding, header, CSV syntax, not sent before) is no JSON Schema either;
# - logout is idempotent: ending an unknown or already ended session answers 204 like a real logout.
EXCUSED: dict[tuple[str, str], list[Any]] = {
    ("GET", "/api/v1/supply-points/{supply_point_id}"): [openapi_checks.positive_data_acceptance],
    ("POST", "/api/v1/switching/submissions"): [openapi_checks.positive_data_acceptance],
    ("POST", "/api/v1/switching/starts"): [openapi_checks.positive_data_acceptance],
    ("DELETE", "/api/v1/session"): [openapi_checks.ignored_auth],
    # a switching range is two dates with from <= to, at most 366 days, within 2016-04-01..2099-12-31:
    # no JSON Schema says that, so schema-valid dates can still be a (clear) 422.
    ("GET", "/api/v1/switching/statistics"): [openapi_checks.positive_data_acceptance],
    ("GET", "/api/v1/switching/fraud-signals"): [openapi_checks.positive_data_acceptance],
}


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_never_fails_on_any_input(
    shadan: Any, world: World, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(shadan))
    reader = world.login("clerk")

    # Registered as the schema's auth, so schemathesis leaves it out when it negates the credentials.
    @schema.auth(refresh_interval=None)
    class Session:
        def get(self, case: Any, context: Any) -> str:
            # Logout and TOTP guessing get a throwaway session each, so the fuzzer neither logs the
            # reader out nor locks its account with wrong codes.
            if method == "DELETE" or path.endswith("/mfa"):
                return str(world.shadan.auth.login("m.sato", PASSWORD, "10.0.0.9").session_token)
            return reader

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), **bearer(data)}

    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        response = case.call_and_validate(excluded_checks=EXCUSED.get((method, path), []))
        statuses.append(response.status_code)

    statuses: list[int] = []
    fuzz()
    if mode is schemathesis.GenerationMode.POSITIVE and method == "GET":
        # The fuzzer really was logged in: valid reads got past authentication.
        assert any(status != 401 for status in statuses), statuses
