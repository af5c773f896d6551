"""Reading a JSON request body safely: content type, size, syntax, shape.

Each failure has its own status (415, 413, 400) so an EHR integrator can tell a wrong header from a
wrong body without reading our code.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Request

from cds_service.errors import PayloadTooLarge, RequestError, UnsupportedMediaType


def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError("request body is not valid JSON", field="") from None
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object", field="")
    return body
