"""The clinician's draft orders are checked as strictly as the chart, before any rule reads them.

A draft is what a suggestion rewrites (an `update` copies it whole into the response), so a malformed one
would reach code that trusts FHIR's shapes: a `periodUnit` that is an object, a `dosageInstruction` that
is a string. Every draft is validated with the same `fhir.resources` R4B models as the chart
(`fhir_mappings/model_check.py`, verdicts cached by content), whatever its resource type, and two drafts
with the same resourceType and id are refused: suggestions find their draft by that reference, so one
would be built from the other's fields. A refusal is a 400 naming the entry and the FHIR field, never a
value from the body.
"""

from __future__ import annotations

from typing import Any

from cds_service.errors import RequestError
from cds_service.log_safety import caller_text
from fhir_mappings.model_check import invalid_reason

DRAFTS_POINTER = "/context/draftOrders/entry"


def check_draft_orders(body: dict[str, Any]) -> None:
    """Refuse the call when a draft is not valid FHIR R4 or two drafts share a reference.

    Runs after the JSON Schema check, which guarantees each entry has a `resource` object with a
    `resourceType` and an `id` of FHIR's shape.
    """
    bundle = body.get("context", {}).get("draftOrders")
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries or ()):
        resource = entry["resource"]
        pointer = f"{DRAFTS_POINTER}/{index}/resource"
        reference = f"{resource['resourceType']}/{resource['id']}"
        if reference in first_index:
            raise RequestError(
                f"{pointer} has the same resourceType and id as {DRAFTS_POINTER}/{first_index[reference]}"
                "/resource: draft orders must have distinct ids",
                field=f"{pointer}/id",
            )
        first_index[reference] = index
        reason = invalid_reason(resource, any_resource_type=True)
        if reason is not None:
            raise RequestError(
                f"{pointer} is {reason}", field=pointer, log_message=_for_log(pointer, reason, resource)
            )


def _for_log(pointer: str, reason: str, resource: dict[str, Any]) -> str:
    """The refusal as logged: a resource type that is not FHIR's is the caller's text, shown as a digest."""
    named = str(resource["resourceType"])
    unexpected = f"unexpected resource type {named[:40]}"
    if reason == unexpected:
        reason = f"unexpected resource type {caller_text(named)}"
    return f"{pointer} is {reason}"
