"""Prefetch: use what the EHR sent; fetch what is missing from the EHR's FHIR server.

CDS Hooks 2.0: a key the client left out (or filled with an OperationOutcome) may be fetched by the
service with the `fhirAuthorization` token; a key sent as null means "no data" and is not fetched again.
What cannot be had is reported per key and per resource type, so the pipeline can answer 412 when the
patient or the conditions are missing and skip only the rules that needed the rest.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from cds_service.bundles import bundle_resources, error_outcome, malformed_bundle
from cds_service.call_log import request_id
from fhir_mappings.fhir_values import subject_reference

log = logging.getLogger(__name__)

TOKEN = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


class FetchOutcome(Protocol):
    ok: bool
    resources: list[dict[str, Any]]
    reason: str


class SearchClient(Protocol):
    def search_all(
        self, base_url: str, queries: dict[str, str], token: str | None, request_id: str | None = None
    ) -> dict[str, Any]: ...


@dataclass
class ResolvedResources:
    by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fetched_keys: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unavailable_types: set[str] = field(default_factory=set)
    seen: set[tuple[str, str]] = field(default_factory=set, repr=False)
    """(type, id) of every resource kept, so a resource in two prefetch keys is kept once."""


def render_template(template: str, context: dict[str, Any]) -> str:
    """Fill `{{context.x}}` and `{{userPractitionerId}}`-style tokens, URL-encoded; unknown tokens raise."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("context."):
            found = context.get(name.removeprefix("context."))
        elif name in ("userPractitionerId", "userPatientId", "userRelatedPersonId"):
            user = str(context.get("userId", ""))
            found = user.split("/", 1)[1] if "/" in user else None
        else:
            raise ValueError(f"unknown prefetch token {name}")
        if not isinstance(found, str):
            raise ValueError(f"prefetch token {name} has no value in this context")
        return quote(found, safe="")

    return TOKEN.sub(value, template)


def template_type(template: str) -> str:
    return re.split(r"[?/]", template, maxsplit=1)[0]


def resolve(templates: dict[str, str], body: dict[str, Any], client: SearchClient) -> ResolvedResources:
    resolved = ResolvedResources()
    prefetch = body.get("prefetch") or {}
    to_fetch: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key, template in templates.items():
        problem = unusable_prefetch(prefetch[key]) if key in prefetch else "not in prefetch"
        if problem is None:
            _add(resolved, _resources_of(prefetch[key]))
        else:
            problems[key] = problem
            to_fetch[key] = template
    if to_fetch:
        _fetch(resolved, templates, to_fetch, body, client, problems)
    return resolved


def unusable_prefetch(value: Any) -> str | None:
    """Why a prefetch value cannot be used as this key's data, or None when it can (null means "no data",
    CDS Hooks 2.0). A malformed Bundle or an error OperationOutcome is known-bad data: read as "no
    Conditions" it would silently return no cards, so the key is fetched again or reported missing (412
    for the patient and the conditions, DATA-UNAVAILABLE for the rest)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return "prefetch value is not a FHIR resource"
    if value["resourceType"] == "OperationOutcome":
        return "prefetch holds an OperationOutcome"
    if value["resourceType"] != "Bundle":
        return None
    return malformed_bundle(value)


def _fetch(
    resolved: ResolvedResources,
    templates: dict[str, str],
    to_fetch: dict[str, str],
    body: dict[str, Any],
    client: SearchClient,
    problems: dict[str, str],
) -> None:
    server = body.get("fhirServer")
    if not isinstance(server, str):
        for key in to_fetch:
            _fail(resolved, templates, key, f"{problems[key]} and no fhirServer")
        return
    token = (body.get("fhirAuthorization") or {}).get("access_token")
    queries = {
        key: render_template(template, body.get("context") or {}) for key, template in to_fetch.items()
    }
    patient_id = str((body.get("context") or {}).get("patientId", ""))
    for key, outcome in client.search_all(server, queries, token, request_id()).items():
        failed = error_outcome(outcome.resources) if outcome.ok else outcome.reason
        if failed is None:
            resolved.fetched_keys.append(key)
            _warn_foreign(key, outcome.resources, patient_id)
            _add(resolved, outcome.resources)
        else:
            _fail(resolved, templates, key, failed)


def _warn_foreign(key: str, resources: list[dict[str, Any]], patient_id: str) -> None:
    """A FHIR server answering with another patient's data is a serious fault worth an operator's
    attention. The facts builder drops those resources and reports them on a card; this logs the count
    (never the identifiers)."""
    expected = f"Patient/{patient_id}"
    foreign = sum(
        1
        for r in resources
        if (r.get("resourceType") == "Patient" and r.get("id") != patient_id)
        or ((ref := subject_reference(r)) is not None and not ref.endswith(expected))
    )
    if foreign:
        log.warning("FHIR server returned %d resources of another patient for prefetch key %s", foreign, key)


def _fail(resolved: ResolvedResources, templates: dict[str, str], key: str, reason: str) -> None:
    resolved.failed[key] = reason
    resolved.unavailable_types.add(template_type(templates[key]))


def _resources_of(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return bundle_resources(value)
    return [value]


def _add(resolved: ResolvedResources, resources: list[dict[str, Any]]) -> None:
    """Keep each resource once per (type, id), grouped by type. Runs once per resource of the chart, so
    the lookups are hoisted out of the loop."""
    by_type, seen = resolved.by_type, resolved.seen
    for resource in resources:
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str) or resource_type == "OperationOutcome":
            continue
        rid = resource.get("id")
        if isinstance(rid, str):  # a malformed id is kept (and reported by the mappers), never deduplicated
            key = (resource_type, rid)
            if key in seen:
                continue
            seen.add(key)
        kept = by_type.get(resource_type)
        if kept is None:
            kept = by_type[resource_type] = []
        kept.append(resource)
