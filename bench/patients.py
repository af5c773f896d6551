"""The benchmark's synthetic patients: they live in `cds_service.synthetic_charts` (the population
generator builds on them too); re-exported here for the benchmark and its tests."""

from cds_service.synthetic_charts import (
    HOOKS,
    LABS,
    SERVICES,
    SIZES,
    ChartSize,
    all_resources,
    hook_request,
    medication_request,
    patient_resources,
)

__all__ = [
    "HOOKS",
    "LABS",
    "SERVICES",
    "SIZES",
    "ChartSize",
    "all_resources",
    "hook_request",
    "medication_request",
    "patient_resources",
]
