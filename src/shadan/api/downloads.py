"""Files for download, from the JSON routes and the pages alike: the response and its OpenAPI answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from shadan.services.exports import ExportFormat

# The success answer of a route that returns a CSV or Excel file.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, ExportFormat.XLSX.media_type: {}}}
}


def attachment(
    content: bytes | str, filename: str, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A file the browser saves as `filename` rather than shows, with any further headers."""
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers={**disposition, **(headers or {})})
