"""One log line and one set of metrics per hook or feedback call, with a request id the EHR can trace.

Every call gets a request id: the caller's `X-Request-ID` when it is a plain token (letters, digits, `-`,
`_`, `.`, at most 128 characters; anything else is caller-controlled text and is replaced), else a new
one. It is echoed in the response and sent on to the EHR's FHIR server (`cds_service.fhir_client`), so a
site can follow one click from its EHR's logs through ours to its FHIR server's.

The line names the service, the status, the duration and the rule IDs of the cards returned: what health
IT needs to answer "was it up, was it fast, what did it say". Never the patient, the body or the token.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from cds_service import metrics
from cds_service.errors import AuthError
from cds_service.log_safety import looks_secret

log = logging.getLogger("bonemet.calls")
REQUEST_ID_HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
_OBSERVED = {"cds.call_service": "hook", "cds.feedback": "feedback"}
_METHODS = frozenset({"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"})


def request_id() -> str:
    """The current call's request id (a fresh one outside a request context)."""
    try:
        return str(g.request_id)
    except (AttributeError, RuntimeError):
        return uuid.uuid4().hex


def note_cards(service_id: str, cards: list[dict]) -> None:
    """Called by the hook route with what it returns, for the call's log line and the card metrics."""
    g.rule_ids = [c.get("source", {}).get("topic", {}).get("code", "?") for c in cards]
    for card, rule_id in zip(cards, g.rule_ids, strict=True):
        metrics.CARDS.labels(service_id, rule_id, str(card.get("indicator", "?"))).inc()


def note_refusal(exc: AuthError) -> None:
    metrics.JWT_REFUSALS.labels(exc.message).inc()


def install(app: Flask) -> None:
    known_services = set(app.extensions["bonemet"].services)

    @app.before_request
    def start_call() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        plain = _PLAIN_ID.match(given) and not looks_secret(given)
        g.request_id = given if plain else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish_call(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        endpoint = _OBSERVED.get(request.endpoint or "")
        if endpoint is not None and request.method != "OPTIONS":  # a CORS preflight is not a hook call
            _observe(endpoint, response.status_code, known_services)
        else:
            _log_other(response.status_code)
        return response


def _observe(endpoint: str, status: int, known_services: set[str]) -> None:
    given = (request.view_args or {}).get("service_id", "")
    service = given if given in known_services else "unknown"  # a path is caller-controlled text
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    metrics.HOOK_CALLS.labels(service, endpoint, str(status)).inc()
    metrics.HOOK_SECONDS.labels(service, endpoint, str(status)).observe(seconds)
    log.info(
        "%s %s answered %d in %.1f ms",
        endpoint,
        service,
        status,
        seconds * 1000,
        extra={
            "event": f"{endpoint}-call",
            "service": service,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "rule_ids": g.get("rule_ids", []),
            "request_id": g.get("request_id"),
        },
    )


def _log_other(status: int) -> None:
    """Every other request (discovery, health, metrics, preview) gets a line too, named by its route, never
    by its path: a path can carry a patient id (the preview) or anything a caller typed."""
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in _METHODS else "other"
    log.info(
        "%s %s answered %d in %.1f ms",
        method,
        endpoint,
        status,
        seconds * 1000,
        extra={
            "event": "http-request",
            "endpoint": endpoint,
            "method": method,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "request_id": g.get("request_id"),
        },
    )
