"""One hook call, from a validated request body to cards, in one direction.

resolve prefetch -> build facts -> run rules -> render cards. The Flask route and the offline
`bonemet-cds evaluate` command both call `evaluate_hook_call`, so what a health IT team checks offline is
what the EHR gets.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cds_service import metrics
from cds_service.errors import PrefetchUnavailable
from cds_service.prefetch import ResolvedResources, resolve
from cds_service.runtime import Runtime
from fhir_mappings.build_facts import build_facts
from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import ClinicalFacts
from fhir_mappings.thresholds import Thresholds
from hooks.cards import CardTemplate, render_card
from hooks.explain import RuleVerdict, explain_rules
from hooks.orders import OrderCatalog
from hooks.runner import run_rules
from hooks.service_registry import CdsServiceDefinition

ESSENTIAL_TYPES = frozenset({"Patient", "Condition"})


class RuleRuntime(Protocol):
    """What turning one chart into cards needs: the site's data files, no server, store or FHIR client.
    `Runtime` has it, and so does the population run's `RuntimeParts` (built once per worker process)."""

    @property
    def codesets(self) -> Codesets: ...
    @property
    def thresholds(self) -> Thresholds: ...
    @property
    def card_templates(self) -> dict[str, CardTemplate]: ...
    @property
    def orders(self) -> OrderCatalog: ...


@dataclass(frozen=True)
class Evaluation:
    cards: list[dict[str, Any]]
    facts: ClinicalFacts
    """Kept for the population run, which reports the chart's unmapped codes and data issues."""


def evaluate_hook_call(
    runtime: Runtime,
    service: CdsServiceDefinition,
    body: dict[str, Any],
    *,
    now: datetime | None = None,
    public_base_url: str | None = None,
) -> list[dict[str, Any]]:
    """`public_base_url` is where the EHR reaches this service; cards link to the SMART app there."""
    resolved = resolve(service.prefetch(runtime.prefetch_templates), body, runtime.fhir_client)
    metrics.note_prefetch(resolved.fetched_keys, resolved.failed, isinstance(body.get("fhirServer"), str))
    _require_essentials(resolved)
    return evaluate_resolved(
        runtime,
        service,
        body["context"],
        resolved.by_type,
        resolved.unavailable_types,
        now=now,
        public_base_url=public_base_url,
    ).cards


def evaluate_resolved(
    runtime: RuleRuntime,
    service: CdsServiceDefinition,
    context: dict[str, Any],
    by_type: dict[str, list[dict[str, Any]]],
    unavailable_types: Collection[str] = (),
    *,
    now: datetime | None = None,
    public_base_url: str | None = None,
) -> Evaluation:
    """Facts, rules and cards from resources already in hand: the hook route (after prefetch) and the
    population run (a chart from a Bulk Data export) share this, so a silent run predicts the EHR's cards."""
    draft_orders = context.get("draftOrders")
    facts = call_facts(runtime, service, context, by_type, now=now)
    selections = context.get("selections") if service.hook == "order-select" else None
    findings = run_rules(service, facts, runtime.thresholds, frozenset(unavailable_types), selections)
    drafts_by_ref = _drafts_by_reference(draft_orders)
    chart_orders = _chart_orders(by_type)
    cards = [
        render_card(
            finding,
            runtime.card_templates[finding.rule_id],
            patient_id=context["patientId"],
            draft_orders_by_ref=drafts_by_ref,
            order_catalog=runtime.orders,
            chart_orders_by_ref=chart_orders,
            public_base_url=public_base_url,
        )
        for finding in findings
    ]
    return Evaluation(cards, facts)


def explain_resolved(
    runtime: RuleRuntime,
    service: CdsServiceDefinition,
    context: dict[str, Any],
    by_type: dict[str, list[dict[str, Any]]],
    unavailable_types: Collection[str] = (),
    *,
    now: datetime | None = None,
) -> list[RuleVerdict]:
    """Every catalog rule for these resources, fired or not and why (the bone health review's list): the
    same facts and rule run as `evaluate_resolved`, so the list names exactly the rules it gives cards."""
    return explain_rules(
        call_facts(runtime, service, context, by_type, now=now),
        runtime.thresholds,
        hook=service.hook,
        unavailable_types=unavailable_types,
        selections=context.get("selections") if service.hook == "order-select" else None,
        templates=runtime.card_templates,
    )


def call_facts(
    runtime: RuleRuntime,
    service: CdsServiceDefinition,
    context: dict[str, Any],
    by_type: dict[str, list[dict[str, Any]]],
    *,
    now: datetime | None = None,
) -> ClinicalFacts:
    return build_facts(
        context["patientId"],
        by_type,
        hook=service.hook,
        now=now or datetime.now(UTC),
        draft_orders=context.get("draftOrders"),
        codesets=runtime.codesets,
        thresholds=runtime.thresholds,
    )


def _require_essentials(resolved: ResolvedResources) -> None:
    """Without the patient and the conditions no rule can decide anything: 412, never an empty list."""
    missing = ESSENTIAL_TYPES & set(resolved.unavailable_types)
    if missing:
        raise PrefetchUnavailable(
            f"could not obtain {', '.join(sorted(missing))} ({_reasons(resolved.failed)})"
        )


def _reasons(failed: dict[str, str]) -> str:
    """Keys grouped by reason: a refused token fails every key alike, and is said once."""
    keys_by_reason: dict[str, list[str]] = {}
    for key, reason in sorted(failed.items()):
        keys_by_reason.setdefault(reason, []).append(key)
    return "; ".join(f"{', '.join(keys)}: {reason}" for reason, keys in keys_by_reason.items())


def _chart_orders(by_type: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The chart's MedicationRequests by reference: a suggestion may stop one (an osteoporosis regimen)."""
    return {
        f"MedicationRequest/{r['id']}": r
        for r in by_type.get("MedicationRequest") or []
        if isinstance(r, dict) and r.get("id")
    }


def _drafts_by_reference(bundle: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    drafts: dict[str, dict[str, Any]] = {}
    for entry in (bundle or {}).get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") and resource.get("id"):
            drafts[f"{resource['resourceType']}/{resource['id']}"] = resource
    return drafts
