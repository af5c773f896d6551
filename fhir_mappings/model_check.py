"""Full FHIR validation with `fhir.resources` R4B models, for the resources a decision rests on.

EHRs send R4 (4.0.1); fhir.resources ships R4B models, which read R4 JSON for every resource type we use
(Condition, Observation, MedicationRequest, ImagingStudy, Procedure, ServiceRequest, Encounter, Patient,
DiagnosticReport) and reject R5-only fields, so they are the strict, well-kept choice (its R5 models,
`fhir.resources.<name>`, would reject valid R4). Validating costs ~0.1 ms per resource, so the builders
validate only what a rule decides on (the newest result per analyte, the matched conditions and orders),
never a whole chart.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from pydantic import ValidationError

_MODULES = {
    "Patient": "patient",
    "Condition": "condition",
    "Observation": "observation",
    "MedicationRequest": "medicationrequest",
    "ImagingStudy": "imagingstudy",
    "Procedure": "procedure",
    "ServiceRequest": "servicerequest",
    "Encounter": "encounter",
    "DiagnosticReport": "diagnosticreport",
}


@cache
def _model(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{_MODULES[resource_type]}")
    return getattr(module, resource_type)


def invalid_reason(resource: dict[str, Any]) -> str | None:
    """None when the resource is valid FHIR; else a short reason naming the first bad field (no values)."""
    resource_type = resource.get("resourceType")
    if resource_type not in _MODULES:
        return f"unexpected resource type {str(resource_type)[:40]}"
    try:
        _model(resource_type).model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))[:80]
        return f"not valid FHIR R4 ({where or 'resource'}: {first.get('type', 'invalid')})"
    except (ValueError, TypeError, RecursionError):
        return "not valid FHIR R4"
    return None
