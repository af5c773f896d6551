"""`create_app(settings)`: builds the Flask app; settings and data files are checked here, once."""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from cds_service import call_log, smart_app
from cds_service.analytics.views import analytics_bp
from cds_service.errors import AuthError, ServiceError
from cds_service.log_safety import configure_logging, frames_only
from cds_service.routes import bp, json_response
from cds_service.runtime import build_runtime
from cds_service.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.extensions["bonemet"] = build_runtime(settings)
    app.register_blueprint(bp)
    call_log.install(app)
    app.register_blueprint(analytics_bp)
    smart_app.register(app, settings)
    _register_preview(app)
    CORS(
        app,
        origins=[o.strip() for o in settings.cors_origins.split(",")],
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        max_age=600,
    )
    _register_error_handlers(app)
    if not settings.auth_enabled:
        log.warning("BONEMET_AUTH=off: JWT verification is DISABLED. Never run this way with real patients.")
    return app


def _register_preview(app: Flask) -> None:
    try:
        from cds_service.preview import preview_bp
    except ImportError:
        return
    app.register_blueprint(preview_bp)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        if exc.status >= 500:
            log.error("internal error: %s", frames_only(exc))
        else:
            log.info("refused %s: %s", exc.code, exc.log_message)
        if isinstance(exc, AuthError):
            call_log.note_refusal(exc)
        return json_response(exc.to_json(), exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        codes = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
        response = json_response({"error": codes.get(status, "http-error"), "message": exc.name}, status)
        for name, value in exc.get_headers():  # e.g. the Allow header RFC 9110 requires on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.error("internal error: %s", frames_only(exc))
        return json_response(
            {"error": "internal-error", "message": "internal error; no cards were produced"}, 500
        )
