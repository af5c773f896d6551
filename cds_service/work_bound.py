"""A bound on the work one hook call can cost: the number of FHIR resources it carries.

The body size cap (`BONEMET_MAX_BODY_BYTES`) does not bound CPU: 5 MB of small Conditions is 27,000 of
them, and each one a code set matches is validated (about 0.1 ms) and turned into facts: 9-10 s of CPU
for one call on the production server (issue 11). What costs is the number of resources, so that is
what is capped (`BONEMET_MAX_RESOURCES_PER_CALL`, default 10,000: 4.5 times the benchmark's heavy chart
of 2,220, and about 1.3 s of CPU in the worst shape, every resource matched). A call over the cap is
refused whole with 413 before the JWT is checked (counting is a few list lengths): deciding on part of a
chart could miss the result that matters and stay silent. The FHIR client applies the same cap to what
it fetches.
"""

from __future__ import annotations

from typing import Any

from cds_service.errors import PayloadTooLarge


def check_work_bound(body: dict[str, Any], max_resources: int) -> None:
    count = count_resources(body)
    if count > max_resources:
        raise PayloadTooLarge(
            f"request carries {count} FHIR resources; at most {max_resources} are read per call "
            "(BONEMET_MAX_RESOURCES_PER_CALL)"
        )


def count_resources(body: dict[str, Any]) -> int:
    """Resources in prefetch (a Bundle counts its entries, any other resource counts one) and drafts."""
    total = 0
    for value in (body.get("prefetch") or {}).values():
        if isinstance(value, dict):
            total += _entries(value) if value.get("resourceType") == "Bundle" else 1
    drafts = body.get("context", {}).get("draftOrders")
    return total + (_entries(drafts) if isinstance(drafts, dict) else 0)


def _entries(bundle: dict[str, Any]) -> int:
    entries = bundle.get("entry")
    return len(entries) if isinstance(entries, list) else 0
