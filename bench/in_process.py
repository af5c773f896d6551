"""In-process latency: from the parsed request body to the cards, per patient and per service.

Measured: schema validation, prefetch resolution, facts, rules and card rendering (what the route does
between parsing the body and recording the cards), with the production runtime. HTTP, JSON parsing and
the database write are measured by the HTTP section.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from bench.patients import HOOKS, SERVICES, hook_request
from bench.stats import latency_summary
from cds_service.pipeline import evaluate_hook_call
from cds_service.runtime import Runtime
from cds_service.validation import validate_hook_request
from fhir_mappings.model_check import forget_verdicts


def hook_call(runtime: Runtime, hook: str, body: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    service = runtime.services[SERVICES[hook]]

    def call() -> list[dict[str, Any]]:
        validate_hook_request(body, hook)
        return evaluate_hook_call(runtime, service, body)

    return call


def time_calls(call: Callable[[], Any], calls: int, warmup: int) -> list[float]:
    """Milliseconds per call. The collector runs as it would in a server (not disabled)."""
    for _ in range(warmup):
        call()
    gc.collect()
    samples = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        call()
        samples.append((clock() - start) * 1000)
    return samples


def measure(
    runtime: Runtime, prefetches: dict[str, dict[str, Any]], calls: int, warmup: int
) -> dict[str, dict[str, Any]]:
    """{patient: {hook: {p50, p95, p99, mean, calls, cards}}}."""
    results: dict[str, dict[str, Any]] = {}
    for size, prefetch in prefetches.items():
        results[size] = {}
        for hook in HOOKS:
            call = hook_call(runtime, hook, hook_request(hook, prefetch))
            cards = call()
            summary = latency_summary(time_calls(call, calls, warmup))
            results[size][hook] = {**summary, "cards": len(cards)}
        results[size]["patient-view first sight"] = _first_sight(
            runtime, prefetch, max(3, calls // 10), warmup
        )
    return results


def _first_sight(runtime: Runtime, prefetch: dict[str, Any], calls: int, warmup: int) -> dict[str, Any]:
    """patient-view for a chart never validated before: the FHIR validation verdicts are forgotten before
    every call, so this is the cost of a patient's first opening (later ones reuse the verdicts)."""
    call = hook_call(runtime, "patient-view", hook_request("patient-view", prefetch))

    def cold() -> list[dict[str, Any]]:
        forget_verdicts()
        return call()

    cards = cold()
    return {**latency_summary(time_calls(cold, calls, warmup)), "cards": len(cards)}
