"""FHIR-server mode: no prefetch, every query answered by a loopback FHIR server after a fixed delay.

The service reads its nine queries in parallel (cds_service/fhir_client.py), so a call should take about
one delay plus the clinical work, not nine delays. Measured in process, per patient, patient-view.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.in_process import hook_call, time_calls
from bench.patients import hook_request
from bench.processes import start_module
from bench.stats import latency_summary
from cds_service.runtime import Runtime


def measure(
    runtime_for: Callable[[str], Runtime], sizes: list[str], delay: float, calls: int, log_dir: Path
) -> dict[str, Any]:
    """`runtime_for(origin)` builds a production runtime whose FHIR allow-list holds `origin`."""
    results: dict[str, Any] = {"delay_ms": delay * 1000, "queries_per_call": 0, "patients": {}}
    for size in sizes:
        server = start_module(
            "bench.fhir_delay_server",
            ["--size", size, "--delay", str(delay)],
            "/fhir/metadata",
            log_dir / f"fhir-{size}.log",
        )
        try:
            origin = f"http://127.0.0.1:{server.port}"
            runtime = runtime_for(origin)
            body = hook_request("patient-view", None)
            body["fhirServer"] = f"{origin}/fhir"
            call = hook_call(runtime, "patient-view", body)
            results["queries_per_call"] = len(runtime.services["bonemet-patient-view"].prefetch_keys)
            summary = latency_summary(time_calls(call, calls, warmup=2))
            summary["ratio_to_one_delay"] = round(summary["p50_ms"] / (delay * 1000), 2)
            summary["cards"] = len(call())
            results["patients"][size] = summary
        finally:
            server.stop()
    return results
