"""Reading a JSON request body safely: content type, size, transfer, syntax, depth, shape.

Each failure has its own status (415, 413, 400) so an EHR integrator can tell a wrong header from a
wrong body without reading our code. A body that cannot be read to its end (malformed chunked framing, a
client that disconnects mid-body) is the client's fault, answered 400 and logged as a refusal, never as
an internal error.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Request

from cds_service.errors import PayloadTooLarge, RequestError, UnsupportedMediaType
from cds_service.json_limits import TooDeep, loads_bounded


def read_json_object(request: Request, max_bytes: int, max_depth: int) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    raw = _read(request, max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body is larger than {max_bytes} bytes")
    try:
        body = loads_bounded(raw, max_depth)
    except orjson.JSONDecodeError:
        raise RequestError("request body is not valid JSON", field="") from None
    except TooDeep:
        raise RequestError(
            f"request body nests objects and arrays deeper than {max_depth} levels (BONEMET_MAX_JSON_DEPTH)",
            field="",
        ) from None
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object", field="")
    return body


def _read(request: Request, limit: int) -> bytes:
    """The raw body, up to `limit` bytes.

    Everything the server's input stream raises here is about the bytes the client sent or failed to
    send: gunicorn raises its own parse errors for broken chunked framing (they share no base class with
    anything in the standard library), an `OSError` when the connection drops, werkzeug a
    `ClientDisconnected` when fewer bytes than Content-Length arrive. So any exception while reading is
    a 400 with the kind of failure, not a 500.
    """
    try:
        return request.stream.read(limit)
    except OSError as exc:
        raise RequestError(
            f"request body ended early: the client went away ({type(exc).__name__})", field=""
        ) from None
    except Exception as exc:  # noqa: BLE001 - see docstring: transport failures only
        raise RequestError(
            f"request body could not be read: malformed transfer framing ({type(exc).__name__})", field=""
        ) from None
