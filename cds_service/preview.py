"""The page at `/`: what a person opening the service's URL in a browser sees.

A status block (version, auth mode, database kind, services, discovery URL), then one button per demo
patient. A button is a plain link to `GET /preview/patient-view/{patientId}`: the server builds the
patient-view request from that demo patient's bundle (as prefetch), runs it through `evaluate_hook_call`
exactly as the HTTP route does, and renders the cards as an EHR would. Server-side rendering keeps the
page free of scripts, so the Content-Security-Policy can forbid them outright.

The endpoint only ever evaluates the built-in synthetic patients (it takes no patient data as input),
and its cards are not recorded: previews must not pollute feedback analytics. Card Markdown is rendered
by markdown-it-py in CommonMark mode with raw HTML disabled, so a card cannot inject markup.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, render_template, request
from markdown_it import MarkdownIt

from cds_service.demo_catalog import DemoIndex, date_shift, load_bundle, load_index, patient_view_request
from cds_service.pipeline import evaluate_hook_call
from cds_service.routes import public_base_url

preview_bp = Blueprint("preview", __name__, template_folder="templates")
PATIENT_VIEW_SERVICE = "bonemet-patient-view"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _version() -> str:
    try:
        return version("bonemet-cds")
    except PackageNotFoundError:
        return "development"


def render_markdown(text: str) -> str:
    """Card Markdown to HTML: raw HTML is escaped, javascript:/data: links are refused by markdown-it.

    Each FHIR reference (`Observation/abc-1`) is kept on one line by a span, so a Record cell naming two
    (a calculated value's inputs) wraps between them, never at a hyphen inside one."""
    html = _markdown.render(text)
    return _TEXT_NODE.sub(lambda m: ">" + _REFERENCE.sub(_unbroken, m.group(1)) + "<", html)


_TEXT_NODE = re.compile(r">([^<]+)<")
_REFERENCE = re.compile(r"\b[A-Z][a-z][A-Za-z]+/[A-Za-z0-9.-]{0,63}[A-Za-z0-9]")


def _unbroken(match: re.Match[str]) -> str:
    return f'<span class="ref">{match.group(0)}</span>'


def safe_url(url: Any) -> str | None:
    """Only http(s) links are shown as links; anything else (javascript:, data:) is dropped."""
    if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def _page(
    index: DemoIndex, selected: str | None = None, cards: list[dict[str, Any]] | None = None
) -> Response:
    rt = current_app.extensions["bonemet"]
    html = render_template(
        "preview.html",
        version=_version(),
        auth_mode=rt.settings.auth_mode,
        database=rt.settings.database_url.split(":", 1)[0],
        discovery=request.host_url.rstrip("/") + "/cds-services",
        services=list(rt.services.values()),
        patients=index.patients,
        selected=index.patient(selected) if selected else None,
        cards=cards,
        render_markdown=render_markdown,
        safe_url=safe_url,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@preview_bp.get("/")
def status_page() -> Response:
    return _page(load_index())


@preview_bp.get("/preview/patient-view/<patient_id>")
def preview_patient_view(patient_id: str) -> Response:
    index = load_index()
    try:
        patient = index.patient(patient_id)
    except KeyError:
        abort(404)
    rt = current_app.extensions["bonemet"]
    service = rt.services[PATIENT_VIEW_SERVICE]
    bundle = load_bundle(patient.path, date_shift(index.reference_date))
    body = patient_view_request(bundle, patient.id, service.prefetch(rt.prefetch_templates))
    cards = evaluate_hook_call(rt, service, body, public_base_url=public_base_url(rt))
    return _page(index, patient.id, cards)
