"""`GET /admin/analytics`: feedback analytics for health IT, behind an admin credential.

Off unless `BONEMET_ADMIN_TOKEN` is set (404 otherwise: the page does not exist). On, it asks for HTTP
Basic credentials, user `admin` and that token, compared in constant time. Basic, not Bearer, on purpose:
an EHR's JWT arrives as a Bearer token, and no JWT, however valid for the hooks, opens this page.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request

from cds_service.analytics import data, plots
from cds_service.persistence.report import ReportFilter, rule_report

analytics_bp = Blueprint("analytics", __name__, template_folder="templates")
ADMIN_USER = "admin"
REALM = 'Basic realm="bonemet-cds analytics", charset="UTF-8"'
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@analytics_bp.get("/admin/analytics")
def analytics_page() -> Response:
    rt = current_app.extensions["bonemet"]
    token = rt.settings.admin_token
    if not token:
        abort(404)
    if not _admin(request.headers.get("Authorization", ""), token):
        return Response("admin credentials required", 401, {"WWW-Authenticate": REALM})
    where, first_day, last_day = _filter()
    engine = rt.store.engine
    rates = data.override_rates_by_week(engine, where)
    weeks = data.cards_by_week(engine, where)
    reasons = data.override_reasons(engine, where)
    html = render_template(
        "analytics.html",
        where=where,
        first_day=first_day,
        last_day=last_day,
        services=sorted(rt.services),
        rules=rule_report(engine, where),
        rates=rates,
        weeks=weeks,
        reasons=reasons,
        rate_plot=plots.override_rate_plot(rates, first_day, last_day),
        cards_plot=plots.cards_per_call_plot(weeks, first_day, last_day),
        reasons_plot=plots.reasons_plot(reasons),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _admin(header: str, token: str) -> bool:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False  # a Bearer JWT from an EHR never opens this page
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user_ok = hmac.compare_digest(user.encode(), ADMIN_USER.encode())
    return hmac.compare_digest(password.encode(), token.encode()) and user_ok


def _filter() -> tuple[ReportFilter, date, date]:
    """Last 12 weeks by default; `since`/`until` (YYYY-MM-DD, inclusive) and `service` narrow it."""
    today = datetime.now(UTC).date()
    since = _day(request.args.get("since")) or today - timedelta(weeks=12)
    until = _day(request.args.get("until")) or today
    service = request.args.get("service") or None
    if service is not None and service not in current_app.extensions["bonemet"].services:
        service = None
    where = ReportFilter(service_id=service, since=_start(since), until=_start(until + timedelta(days=1)))
    return where, since, until


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        abort(400)


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
