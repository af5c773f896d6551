"""HTTP endpoints of the CDS Hooks 2.0 API. Views parse, call one function, and return."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import NotFound

from cds_service import metrics
from cds_service.auth_check import authenticate
from cds_service.call_log import note_cards
from cds_service.draft_orders import check_draft_orders
from cds_service.errors import UnknownService
from cds_service.log_safety import caller_text
from cds_service.pipeline import evaluate_hook_call
from cds_service.request_body import read_json_object
from cds_service.runtime import Runtime
from cds_service.validation import validate_feedback, validate_hook_request
from cds_service.work_bound import check_work_bound
from hooks.service_registry import CdsServiceDefinition

log = logging.getLogger(__name__)
bp = Blueprint("cds", __name__)


def runtime() -> Runtime:
    return current_app.extensions["bonemet"]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


@bp.get("/cds-services")
def discovery() -> Response:
    rt = runtime()
    return json_response(
        {"services": [s.discovery_entry(rt.prefetch_templates) for s in rt.services.values()]}
    )


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    rt = runtime()
    service = _service(rt, service_id)
    body = read_json_object(request, rt.settings.max_body_bytes, rt.settings.max_json_depth)
    validate_hook_request(body, service.hook)
    check_work_bound(body, rt.settings.max_resources_per_call)
    authenticate(rt, request)
    check_draft_orders(body)
    cards = evaluate_hook_call(rt, service, body, public_base_url=public_base_url(rt))
    note_cards(service.id, cards)
    _record(rt, service, body, cards)
    return json_response({"cards": cards})


def public_base_url(rt: Runtime) -> str:
    """Where the EHR reaches this service (BONEMET_PUBLIC_URL behind a proxy, else the URL Flask saw):
    the base of the SMART app's launch URL on every card."""
    return rt.settings.public_url or request.url_root.rstrip("/")


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    rt = runtime()
    service = _service(rt, service_id)
    body = read_json_object(request, rt.settings.max_body_bytes, rt.settings.max_json_depth)
    validate_feedback(body)
    authenticate(rt, request)
    recorded = rt.store.record_feedback(service.id, body["feedback"])
    return json_response({"recorded": recorded})


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus scrape (all workers together); off with BONEMET_METRICS=off. No patient data in it."""
    if not runtime().settings.metrics_enabled:
        raise NotFound()
    body, content_type = metrics.exposition()
    return Response(body, mimetype=None, content_type=content_type)


@bp.get("/healthz")
def health() -> Response:
    rt = runtime()
    return json_response({"status": "ok", "services": len(rt.services), "auth": rt.settings.auth_mode})


def _service(rt: Runtime, service_id: str) -> CdsServiceDefinition:
    try:
        return rt.services[service_id]
    except KeyError:
        raise UnknownService(
            f"no CDS service with id '{service_id[:80]}'",
            log_message=f"no CDS service with id {caller_text(service_id)}",
        ) from None


def _record(
    rt: Runtime, service: CdsServiceDefinition, body: dict[str, Any], cards: list[dict[str, Any]]
) -> None:
    """Record the cards for feedback analytics, written behind the answer (`persistence.card_log`). A
    failing analytics store must not withhold cards from the clinician, so a failure is logged (without
    patient data) and the answer still goes out."""
    try:
        rt.store.log_cards(service.id, body["hookInstance"], body["context"]["patientId"], cards)
    except Exception as exc:  # noqa: BLE001 - logged, and the clinical answer must still be delivered
        log.error("could not queue %d cards of %s: %s", len(cards), service.id, type(exc).__name__)
