"""One patient's chart, read with the SMART token, turned into the facts the hooks decide on.

The app reads the chart through the same path as a patient-view hook call whose prefetch was left out:
the same prefetch queries, the same `FhirClient` (allow-list, deadline, paging, `self`-link checks),
`prefetch.resolve`, `build_facts` and the rules. So the app shows exactly the facts the hooks decide on,
and its "fired" rules are the cards the patient-view hook returns for the same chart. Nothing read here
is kept after the page is rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cds_service.pipeline import ESSENTIAL_TYPES, call_facts
from cds_service.prefetch import resolve
from cds_service.runtime import Runtime
from fhir_mappings.facts import ClinicalFacts

PATIENT_VIEW_SERVICE = "bonemet-patient-view"
PATIENT_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
"""FHIR R4 `id`: what a token response's `patient` must look like before it goes into a query."""


class ChartUnavailable(Exception):
    """The patient or the conditions could not be read: nothing can be decided, so no review is shown.
    The message names the prefetch keys and reasons, never the patient or the token."""


@dataclass(frozen=True)
class ChartReview:
    """The facts the rules decide on; the page runs the rules itself (`hooks.explain`), once, so no cards
    are rendered here."""

    facts: ClinicalFacts
    unavailable: dict[str, str]
    """Prefetch key -> why it could not be read (the rules that needed it are not evaluated)."""
    unavailable_types: frozenset[str]


def read_chart(
    runtime: Runtime, iss: str, access_token: str, patient_id: str, *, now: datetime | None = None
) -> ChartReview:
    service = runtime.services[PATIENT_VIEW_SERVICE]
    context: dict[str, Any] = {"patientId": patient_id}
    body: dict[str, Any] = {
        "hook": service.hook,
        "fhirServer": iss,
        "fhirAuthorization": {"access_token": access_token, "token_type": "Bearer"},
        "context": context,
        "prefetch": {},
    }
    resolved = resolve(service.prefetch(runtime.prefetch_templates), body, runtime.fhir_client)
    missing = ESSENTIAL_TYPES & resolved.unavailable_types
    if missing:
        reasons = "; ".join(f"{key}: {reason}" for key, reason in sorted(resolved.failed.items()))
        raise ChartUnavailable(f"could not read {', '.join(sorted(missing))} ({reasons})")
    facts = call_facts(runtime, service, context, resolved.by_type, now=now or datetime.now(UTC))
    return ChartReview(facts, dict(resolved.failed), frozenset(resolved.unavailable_types))
