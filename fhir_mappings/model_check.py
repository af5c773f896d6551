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
from functools import cache, lru_cache
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
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


# Draft orders an EHR may send (CDS Hooks 2.0 order-select/order-sign: R4 DeviceRequest, MedicationRequest,
# NutritionOrder, ServiceRequest, VisionPrescription; the service also reads drafted Procedures). Loaded at
# start-up with the others; any other FHIR resource type is validated too, its model imported on first use.
_DRAFT_MODULES = {
    "DeviceRequest": "devicerequest",
    "NutritionOrder": "nutritionorder",
    "VisionPrescription": "visionprescription",
    "CommunicationRequest": "communicationrequest",
}


@cache
def _model(resource_type: str) -> Any:
    module_name = _MODULES.get(resource_type) or _DRAFT_MODULES[resource_type]
    module = importlib.import_module(f"fhir.resources.R4B.{module_name}")
    return getattr(module, resource_type)


@lru_cache(maxsize=256)  # bounded: the name comes from the request
def _any_resource_model(resource_type: str) -> Any | None:
    """The R4B model of any FHIR resource type (None for a name that is not one, e.g. `Dosage`)."""
    if resource_type in _MODULES or resource_type in _DRAFT_MODULES:
        return _model(resource_type)
    try:
        model = get_fhir_model_class(resource_type)
    except (ValueError, ImportError, AttributeError):
        return None
    return model if issubclass(model, Resource) else None


def load_models() -> None:
    """Import every model at start-up (in the gunicorn master, before the fork, so workers share them).
    Imported on first use instead, they cost the first hook call of each worker about a second."""
    for resource_type in (*_MODULES, *_DRAFT_MODULES):
        _model(resource_type)


def invalid_reason(resource: dict[str, Any], *, any_resource_type: bool = False) -> str | None:
    """None when the resource is valid FHIR; else a short reason naming the first bad field (no values).

    By default only the types the fact builders read are expected; `any_resource_type` (draft orders)
    accepts every FHIR R4 resource type and validates it with its model.
    """
    resource_type = resource.get("resourceType")
    model = _model(resource_type) if resource_type in _MODULES else None
    if model is None and any_resource_type and isinstance(resource_type, str):
        model = _any_resource_model(resource_type)
    if model is None:
        return f"unexpected resource type {str(resource_type)[:40]}"
    key = _digest(resource)
    if key is not None:
        with _verdicts_lock:
            if key in _verdicts:
                _verdicts.move_to_end(key)
                return _verdicts[key]
    verdict = _validate(model, resource)
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


def _validate(model: Any, resource: dict[str, Any]) -> str | None:
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"not valid FHIR R4 ({_location(first) or 'resource'}: {first.get('type', 'invalid')})"
    except Exception:  # noqa: BLE001 - see below
        # fhir.resources' own validators raise on some malformed input instead of reporting it (a
        # primitive's `_status: "5"` is parsed as JSON and then read as a dict: AttributeError). A
        # validator that cannot read the resource has still said it is not valid FHIR.
        return "not valid FHIR R4"
    return None


def _location(error: Any) -> str:
    """Where the error is, as model field names and list indexes. An unknown field's name is the one
    part that comes from the data (it could be anything, a patient's name included), so it is not quoted."""
    parts = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "extra_forbidden" and parts:
        parts[-1] = "(unknown field)"
    return ".".join(parts)[:80]
