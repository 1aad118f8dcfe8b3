"""/docs: the API reference rendered on the server from the OpenAPI spec.

The stock Swagger UI loads scripts from a CDN and runs inline script; operators' networks are closed and
the CSP forbids both, so the reference is plain HTML, and the machine-readable spec is /openapi.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from shadan.web.templating import render

router = APIRouter(include_in_schema=False)

_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    request_body: str
    responses: tuple[tuple[str, str, str], ...]
    secured: bool


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", "object"))


def _body_type(content: dict[str, Any]) -> str:
    for media in content.values():
        return _type_of(media.get("schema", {}))
    return ""


def operations(spec: dict[str, Any]) -> list[Operation]:
    result = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = tuple(
                Parameter(
                    p["name"],
                    p["in"],
                    bool(p.get("required")),
                    _type_of(p.get("schema", {})),
                    p.get("description", p.get("schema", {}).get("description", "")),
                )
                for p in op.get("parameters", [])
            )
            body = op.get("requestBody", {}).get("content", {})
            responses = tuple(
                (status, r.get("description", ""), _body_type(r.get("content", {})))
                for status, r in op.get("responses", {}).items()
            )
            result.append(
                Operation(
                    method.upper(),
                    path,
                    op.get("summary", ""),
                    op.get("description", ""),
                    params,
                    _body_type(body),
                    responses,
                    bool(op.get("security")),
                )
            )
    return result


@dataclass(frozen=True, slots=True)
class SchemaDoc:
    name: str
    description: str
    properties: tuple[Parameter, ...]


def schema_docs(spec: dict[str, Any]) -> list[SchemaDoc]:
    docs = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        props = tuple(
            Parameter(prop, "", prop in required, _type_of(sub), sub.get("description", ""))
            for prop, sub in schema.get("properties", {}).items()
        )
        docs.append(SchemaDoc(name, schema.get("description", ""), props))
    return docs


@router.get("/docs")
def api_reference(request: Request) -> Response:
    spec = request.app.openapi()
    return render(
        "api_docs.html",
        title=spec["info"]["title"],
        version=spec["info"]["version"],
        operations=operations(spec),
        schemas=schema_docs(spec),
        session=None,
    )
