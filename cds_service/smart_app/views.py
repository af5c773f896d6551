"""The SMART app's routes: `/smart/launch`, `/smart/callback`, `/smart/review`.

Views parse, call one function and answer. Every page is rendered on the server with no script at all,
under a CSP that forbids scripts and allows framing only by the EHR origins configured
(`BONEMET_SMART_FRAME_ANCESTORS`). Refusals are HTML pages with a status and a plain sentence; their
messages name no token, code or patient.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from cds_service.errors import FhirAccessRefused
from cds_service.smart_app import launch as smart_launch
from cds_service.smart_app.chart import PATIENT_ID, ChartUnavailable, read_chart
from cds_service.smart_app.config import SmartRuntime
from cds_service.smart_app.page import parse_app_context, review_page
from cds_service.smart_app.session import (
    COOKIE_PATH,
    LAUNCH_COOKIE,
    LAUNCH_SECONDS,
    SESSION_COOKIE,
    AppSession,
    SessionExpired,
)

log = logging.getLogger(__name__)
smart_bp = Blueprint("smart", __name__, url_prefix="/smart")


def _smart() -> SmartRuntime:
    smart: SmartRuntime = current_app.extensions["bonemet_smart"]
    return smart


@smart_bp.get("/launch")
def launch() -> BaseResponse:
    iss = request.args.get("iss", "")
    launch_id = request.args.get("launch") or None
    smart, rt = _smart(), current_app.extensions["bonemet"]
    try:
        rt.fhir_client.check_allowed(iss)  # before any contact: `iss` comes from a browser
    except FhirAccessRefused:
        log.info("SMART launch refused: iss not on BONEMET_FHIR_ALLOWED_HOSTS")
        return _refusal(
            "This FHIR server is not one this service may read (BONEMET_FHIR_ALLOWED_HOSTS). "
            "It was not contacted.",
            400,
        )
    try:
        config = smart_launch.discover(iss, smart.deadline_seconds)
        scope = smart_launch.scopes(
            rt.prefetch_templates, ehr_launch=launch_id is not None, v2="permission-v2" in config.capabilities
        )
        url, pending = smart_launch.authorization_request(iss, launch_id, config, smart.client(), scope)
    except smart_launch.LaunchRefused as exc:
        log.info("SMART launch refused: %s", exc)
        return _refusal(str(exc), exc.status)
    response = redirect(url, 302)
    _set_cookie(response, LAUNCH_COOKIE, smart.sealer.seal_launch(pending), LAUNCH_SECONDS)
    return response


@smart_bp.get("/callback")
def callback() -> BaseResponse:
    smart = _smart()
    if "error" in request.args:
        error = request.args.get("error", "")[:60]
        log.info("SMART authorization denied: %s", error)
        return _refusal(f"The EHR did not authorize the app ({error}).", 400)
    try:
        pending = smart.sealer.open_launch(request.cookies.get(LAUNCH_COOKIE))
    except SessionExpired:
        return _refusal(
            "This sign-in did not start here or took too long (state unknown). "
            "Open the app again from the EHR.",
            400,
        )
    try:
        token = smart_launch.exchange_code(request.url, pending, smart.client())
        session = _session_from(token, pending.iss)
    except smart_launch.LaunchRefused as exc:
        log.info("SMART callback refused: %s", exc)
        return _refusal(str(exc), exc.status)
    response = redirect("/smart/review", 303)  # the token stays in the sealed cookie, never in a URL
    _set_cookie(response, SESSION_COOKIE, smart.sealer.seal_session(session), smart.sealer.max_seconds)
    response.delete_cookie(LAUNCH_COOKIE, path=COOKIE_PATH)
    return response


@smart_bp.get("/review")
def review() -> Response:
    smart, rt = _smart(), current_app.extensions["bonemet"]
    try:
        session = smart.sealer.open_session(request.cookies.get(SESSION_COOKIE))
    except SessionExpired as exc:
        log.info("SMART review without a live session: %s", exc)
        response = _render("smart/expired.html", 401)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response
    try:
        chart = read_chart(rt, session.iss, session.access_token, session.patient)
    except (ChartUnavailable, FhirAccessRefused) as exc:
        log.warning("SMART review could not read the chart: %s", exc)
        return _refusal(
            f"The chart could not be read from the EHR's FHIR server: {exc}. "
            "If the sign-in has expired, open the app again from the EHR.",
            502,
        )
    page = review_page(chart, rt.thresholds, parse_app_context(session.app_context), rt.card_templates)
    response = _render("smart/review.html", 200, page=page)
    _set_cookie(response, SESSION_COOKIE, smart.sealer.seal_session(session), smart.sealer.max_seconds)
    return response


def _session_from(token: dict[str, Any], iss: str) -> AppSession:
    access_token, patient = token.get("access_token"), token.get("patient")
    if not isinstance(access_token, str) or not access_token:
        raise smart_launch.LaunchRefused("the token response holds no access token", 502)
    if str(token.get("token_type", "")).lower() != "bearer":
        raise smart_launch.LaunchRefused("the token response is not a Bearer token", 502)
    if not isinstance(patient, str) or not PATIENT_ID.match(patient):
        raise smart_launch.LaunchRefused(
            "the EHR gave no patient in context (the token response has no `patient`)", 502
        )
    expires_in = token.get("expires_in")
    expires_at = time.time() + float(expires_in) if isinstance(expires_in, int | float) else None
    app_context = token.get("appContext")
    if app_context is not None and not isinstance(app_context, str):
        app_context = None
    return AppSession(
        iss, patient, access_token, str(token.get("scope", "")), app_context, time.time(), expires_at
    )


def _set_cookie(response: BaseResponse, name: str, value: str, max_age: int) -> None:
    """HttpOnly always. Over https, SameSite=None and Secure so the cookie works inside the EHR's
    iframe (a third-party context); over plain http (local testing) Lax: browsers refuse None without
    Secure."""
    secure = request.is_secure
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
    )


def _refusal(message: str, status: int) -> Response:
    return _render("smart/error.html", status, message=message)


def _render(template: str, status: int, **context: Any) -> Response:
    return Response(render_template(template, **context), status, mimetype="text/html")


@smart_bp.after_request
def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _smart().content_security_policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
