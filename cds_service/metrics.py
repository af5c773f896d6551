"""Prometheus metrics: is the service up, fast, and producing the cards it should.

The production server runs several gunicorn worker processes, so the official client's multiprocess mode
is used when `PROMETHEUS_MULTIPROC_DIR` is set (`bonemet-cds serve` sets it to a fresh directory before
anything imports this module); a scrape of `/metrics` then adds up every worker. Without it (the
development server, tests) the process's own registry is served.

Labels are bounded sets: service ids the service defines, HTTP status codes, rule IDs, the fixed refusal
reasons of `cds_service.auth`, the FHIR failure causes below. Nothing from a request body or a patient.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

CALL_LABELS = ["service", "endpoint", "status"]
HOOK_CALLS = Counter("bonemet_hook_calls", "Hook and feedback calls answered", CALL_LABELS)
HOOK_SECONDS = Histogram(
    "bonemet_hook_call_seconds",
    "Time to answer a hook or feedback call",
    CALL_LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CARDS = Counter(
    "bonemet_cards", "Cards returned, per rule and indicator", ["service", "rule_id", "indicator"]
)
FHIR_READS = Counter("bonemet_fhir_reads", "Prefetch keys read from the EHR's FHIR server", ["outcome"])
FHIR_FAILURES = Counter("bonemet_fhir_failures", "Prefetch keys that could not be read, by cause", ["cause"])
JWT_REFUSALS = Counter("bonemet_jwt_refusals", "Hook and feedback calls refused for their JWT", ["reason"])
CARD_LOG_QUEUED = Gauge(
    "bonemet_card_log_queued_rows",
    "Card records waiting to be written (behind the answer)",
    multiprocess_mode="livesum",
)
CARD_LOG_DROPPED = Counter("bonemet_card_log_dropped_rows", "Card records dropped (queue full or store down)")

FHIR_CAUSES = ("timeout", "refused", "unauthorized", "not-found", "server-error", "invalid", "other")


def fhir_failure_cause(reason: str) -> str:
    """A bounded label from a failure message of `cds_service.prefetch` (which never quotes a URL)."""
    text = reason.lower()
    for cause, words in (
        ("timeout", ("deadline", "timed out", "timeout")),
        ("unauthorized", ("401", "403", "unauthori", "forbidden")),
        ("not-found", ("404", "not found")),
        ("server-error", (" 5", "server error")),
        ("refused", ("connect", "refused", "not allowed")),
        ("invalid", ("invalid", "not a", "malformed", "unexpected", "json")),
    ):
        if any(word in text for word in words):
            return cause
    return "other"


def note_prefetch(fetched_keys: list[str], failed: dict[str, str], server_given: bool) -> None:
    """Keys read from the EHR's FHIR server, and the ones that failed by cause (prefetch mode reads none)."""
    FHIR_READS.labels("ok").inc(len(fetched_keys))
    if not server_given:
        return
    for reason in failed.values():
        FHIR_READS.labels("failed").inc()
        FHIR_FAILURES.labels(fhir_failure_cause(reason)).inc()


def exposition() -> tuple[bytes, str]:
    """The scrape body: every worker's values in multiprocess mode, this process's otherwise."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn `child_exit`: a dead worker's live gauges must stop counting (its counters are kept)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
