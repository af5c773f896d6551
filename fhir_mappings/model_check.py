"""Full FHIR validation with `fhir.resources` R4B models, for the resources a decision rests on.

EHRs send R4 (4.0.1); fhir.resources ships R4B models, which read R4 JSON for every resource type we use
(Condition, Observation, MedicationRequest, ImagingStudy, Procedure, ServiceRequest, Encounter, Patient,
DiagnosticReport) and reject R5-only fields, so they are the strict, well-kept choice (its R5 models,
`fhir.resources.<name>`, would reject valid R4). Validating costs ~0.1 ms per resource, so the builders
validate only what a rule decides on (the newest result per analyte, the matched conditions and orders),
never a whole chart.

Verdicts are remembered by a digest of the resource's JSON: CDS clients call again and again for the same
chart (patient-view on every opening, order-select on every change of the order being composed), and a
validation's result depends on nothing but the resource's content. Only the digest and the verdict are
kept (no patient data), in a bounded LRU; `forget_verdicts()` empties it (the benchmark's first-sight runs).
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

import orjson
from pydantic import ValidationError

MAX_VERDICTS = 20_000  # ~2 MB of digests and short reasons; a heavy chart validates a few dozen resources
_verdicts: OrderedDict[bytes, str | None] = OrderedDict()
_verdicts_lock = threading.Lock()  # gthread workers validate from several threads

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


def load_models() -> None:
    """Import every model at start-up (in the gunicorn master, before the fork, so workers share them).
    Imported on first use instead, they cost the first hook call of each worker about a second."""
    for resource_type in _MODULES:
        _model(resource_type)


def invalid_reason(resource: dict[str, Any]) -> str | None:
    """None when the resource is valid FHIR; else a short reason naming the first bad field (no values)."""
    resource_type = resource.get("resourceType")
    if resource_type not in _MODULES:
        return f"unexpected resource type {str(resource_type)[:40]}"
    key = _digest(resource)
    if key is not None:
        with _verdicts_lock:
            if key in _verdicts:
                _verdicts.move_to_end(key)
                return _verdicts[key]
    verdict = _validate(resource_type, resource)
    if key is not None:
        with _verdicts_lock:
            _verdicts[key] = verdict
            if len(_verdicts) > MAX_VERDICTS:
                _verdicts.popitem(last=False)
    return verdict


def forget_verdicts() -> None:
    with _verdicts_lock:
        _verdicts.clear()


def _digest(resource: dict[str, Any]) -> bytes | None:
    """A digest of the resource's JSON, or None for content orjson cannot encode (then no caching)."""
    try:
        return hashlib.blake2b(orjson.dumps(resource), digest_size=16).digest()
    except (orjson.JSONEncodeError, TypeError):
        return None


def _validate(resource_type: str, resource: dict[str, Any]) -> str | None:
    try:
        _model(resource_type).model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))[:80]
        return f"not valid FHIR R4 ({where or 'resource'}: {first.get('type', 'invalid')})"
    except (ValueError, TypeError, RecursionError):
        return "not valid FHIR R4"
    return None
