"""SDMX error responses: SDMX-ML Error messages with the spec's codes and HTTP statuses.

REST 1.5 (``/sdmx/v1``) answers an SDMX-ML 2.1 Error message whose code maps to the HTTP status as
the spec's table says. REST 2.x (``/sdmx/v2``) uses plain HTTP statuses; the body is an SDMX-ML 3.0
Error message, or SDMX-JSON-style ``errors`` when the client prefers JSON.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from fastapi import Request
from fastapi.responses import Response

SDMX_TO_HTTP = {100: 404, 110: 401, 130: 413, 140: 400, 150: 403, 500: 500, 501: 501, 503: 503, 510: 413}
HTTP_TO_SDMX = {
    404: 100,
    401: 110,
    403: 150,
    400: 140,
    406: 140,
    409: 150,
    413: 510,
    422: 150,
    500: 500,
    501: 501,
    503: 503,
}
_NS = {
    "v1": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/",
    "v2": "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/",
}
_TITLES = {
    100: "No results found",
    110: "Unauthorized",
    130: "Response too large due to client request",
    140: "Syntax error",
    150: "Semantic error",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
    510: "Response size exceeds service limit",
}


class SdmxError(Exception):
    """An error to answer with an SDMX error message.

    ``status`` is the HTTP status; ``code`` the SDMX error code (derived from the status when omitted).
    """

    def __init__(self, status: int, message: str, code: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code if code is not None else HTTP_TO_SDMX.get(status, 1000)
        self.message = message
        self.headers = headers or {}


def not_found(message: str = "No results found for the query") -> SdmxError:
    return SdmxError(404, message, 100)


def bad_request(message: str) -> SdmxError:
    return SdmxError(400, message, 140)


def api_version(request: Request) -> str:
    return "v2" if request.url.path.startswith("/sdmx/v2") else "v1"


def error_response(request: Request, error: SdmxError) -> Response:
    """Render an error as the API version and the client's Accept header call for."""
    version = api_version(request)
    accept = request.headers.get("accept", "")
    text = error.message
    if request.url.path.startswith("/api/") or ("json" in accept and "xml" not in accept):
        body = json.dumps(
            {"errors": [{"code": error.code, "title": _TITLES.get(error.code, "Error"), "detail": text}]},
            ensure_ascii=False,
        )
        return Response(body, status_code=error.status, media_type="application/json", headers=error.headers)
    ns = _NS[version]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<mes:Error xmlns:mes="{ns}message" xmlns:com="{ns}common">'
        f'<mes:ErrorMessage code="{error.code}"><com:Text xml:lang="en">{escape(text)}</com:Text></mes:ErrorMessage>'
        "</mes:Error>"
    )
    return Response(body, status_code=error.status, media_type="application/xml", headers=error.headers)
