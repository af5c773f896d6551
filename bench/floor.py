"""The benchmark's floor: the same server stack answering `{"cards": []}` after parsing the body.

The floor blueprint is registered only on the benchmark's app (`bench_app`), never on the production app:
it measures what Flask, gunicorn, the socket and the JSON parse cost by themselves, so every hook result
can be read as a ratio to it (what the clinical work adds).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from cds_service.app import create_app
from cds_service.request_body import read_json_object
from cds_service.routes import json_response
from cds_service.settings import Settings

FLOOR_PATH = "/bench/floor"
floor_bp = Blueprint("bench_floor", __name__)


@floor_bp.post(FLOOR_PATH)
def floor() -> Response:
    """Parse exactly as a hook call does (content type, size cap, orjson), then answer no cards."""
    runtime = current_app.extensions["bonemet"]
    read_json_object(request, runtime.settings.max_body_bytes, runtime.settings.max_json_depth)
    return json_response({"cards": []})


def bench_app(settings: Settings) -> Flask:
    """The production app plus the floor endpoint."""
    app = create_app(settings)
    app.register_blueprint(floor_bp)
    return app
