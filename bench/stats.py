"""Percentiles the way the report states them (nearest rank on the sorted samples)."""

from __future__ import annotations

import math
import statistics
from typing import Any


def percentile(sorted_samples: list[float], fraction: float) -> float:
    if not sorted_samples:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[rank - 1]


def latency_summary(samples_ms: list[float]) -> dict[str, Any]:
    ordered = sorted(samples_ms)
    return {
        "calls": len(ordered),
        "p50_ms": round(percentile(ordered, 0.50), 3),
        "p95_ms": round(percentile(ordered, 0.95), 3),
        "p99_ms": round(percentile(ordered, 0.99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3) if ordered else float("nan"),
    }
