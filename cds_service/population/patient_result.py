"""One patient of a population export through the same code the hooks run, as a plain comparable record.

`evaluate_patient` is what both engines (local multiprocessing, Spark) call per patient, so they cannot
disagree about a patient: the chart goes through `cds_service.pipeline.evaluate_resolved`, the function the
HTTP route calls after prefetch (facts, rules, cards), once as patient-view and once as order-sign with the
patient's active bone-modifying-agent orders as the drafts being signed. There is no second copy of a rule.

`PatientResult` is a frozen dataclass of strings, ints and tuples: picklable (multiprocessing, Spark),
JSON-able (`to_json` / `from_json`) and sorted, so two engines' results compare with `==`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from fhir_mappings.build_facts import FOREIGN
from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import ClinicalFacts, UnmappedEntry, UnusableResult
from fhir_mappings.thresholds import Thresholds
from hooks.cards import CardTemplate
from hooks.orders import OrderCatalog
from hooks.service_registry import CdsServiceDefinition

PATIENT_VIEW = "patient-view"
ORDER_SIGN = "order-sign"
SERVICES_RUN = (PATIENT_VIEW, ORDER_SIGN)
OTHER_PATIENT = "other_patient"
UNIT_CONFLICT = "unit_conflict"
UNUSABLE = "unusable_result"
NO_PATIENT = "no_patient_resource"
DATA_KINDS = (UNUSABLE, UNIT_CONFLICT, OTHER_PATIENT, NO_PATIENT)
ResourcesByType = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class RuntimeParts:
    """What `evaluate_patient` needs, without the HTTP runtime's store, verifier and FHIR client: cheap to
    build once per worker process or Spark executor (`load_runtime_parts`). Satisfies
    `cds_service.pipeline.RuleRuntime`."""

    services: dict[str, CdsServiceDefinition]
    codesets: Codesets
    thresholds: Thresholds
    card_templates: dict[str, CardTemplate]
    orders: OrderCatalog

    def service(self, hook: str) -> CdsServiceDefinition:
        for service in self.services.values():
            if service.hook == hook:
                return service
        raise LookupError(f"no service answers the {hook} hook")


def load_runtime_parts(site_dir: Path | None = None) -> RuntimeParts:
    """The site's data files, checked exactly as the server checks them at start-up (a malformed site file
    stops the run before the first patient)."""
    from cds_service.runtime import (
        _check_dose_thresholds_match_orders,
        _check_rules_have_templates,
        _load_site_data,
    )
    from cds_service.settings import Settings
    from fhir_mappings.model_check import load_models
    from hooks.cards import load_card_templates
    from hooks.orders import load_order_catalog
    from hooks.service_registry import services

    load_models()
    codesets, thresholds = _load_site_data(Settings(auth_mode="off", site_dir=site_dir))
    registered = services()
    templates = load_card_templates()
    _check_rules_have_templates(registered, templates)
    orders = load_order_catalog(site_dir)
    _check_dose_thresholds_match_orders(thresholds, orders)
    return RuntimeParts(registered, codesets, thresholds, templates, orders)


@dataclass(frozen=True, order=True)
class CardResult:
    """One card of one service: its rule ID (the card's `source.topic.code`) and indicator."""

    service: str
    """The hook: `patient-view` or `order-sign`."""
    rule_id: str
    indicator: str


@dataclass(frozen=True, order=True)
class UnmappedCode:
    """A coding carried by a Condition or MedicationRequest that no code set recognises but whose words
    name something the rules read (the UNMAPPED-CODES card): a candidate for the site's code sets."""

    system: str
    code: str
    display: str
    concept: str
    """What the words name: `lung_cancer`, `bone_metastasis`, `bma` or `ici`."""
    resources: int
    """How many of this patient's resources carry it."""


@dataclass(frozen=True, order=True)
class DataFinding:
    """Resources the pipeline could not use, by kind (`DATA_KINDS`), analyte and reason (never a value or
    an identifier)."""

    kind: str
    analyte: str
    reason: str
    resources: int


@dataclass(frozen=True)
class PatientResult:
    patient_id: str
    cards: tuple[CardResult, ...] = ()
    unmapped: tuple[UnmappedCode, ...] = ()
    data_findings: tuple[DataFinding, ...] = ()
    orders_signed: int = 0
    """Active bone-modifying-agent orders run through order-sign as drafts."""
    resources: int = 0
    error: str | None = None
    """An internal error on this patient (type and message): counted and reported, never read as no cards."""

    def rules(self, service: str | None = None) -> tuple[str, ...]:
        return tuple(c.rule_id for c in self.cards if service is None or c.service == service)

    def to_json(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "cards": [[c.service, c.rule_id, c.indicator] for c in self.cards],
            "unmapped": [[u.system, u.code, u.display, u.concept, u.resources] for u in self.unmapped],
            "data_findings": [[d.kind, d.analyte, d.reason, d.resources] for d in self.data_findings],
            "orders_signed": self.orders_signed,
            "resources": self.resources,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PatientResult:
        return cls(
            patient_id=data["patient_id"],
            cards=tuple(CardResult(*c) for c in data["cards"]),
            unmapped=tuple(UnmappedCode(*u) for u in data["unmapped"]),
            data_findings=tuple(DataFinding(*d) for d in data["data_findings"]),
            orders_signed=data["orders_signed"],
            resources=data["resources"],
            error=data["error"],
        )


def as_of_instant(as_of: date | datetime) -> datetime:
    """A date is evaluated at noon UTC, as `bonemet-cds evaluate --now` does."""
    if isinstance(as_of, datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return datetime.combine(as_of, time(12), UTC)


def evaluate_patient(
    runtime_parts: RuntimeParts,
    patient_id: str,
    resources_by_type: ResourcesByType,
    as_of: date | datetime,
) -> PatientResult:
    """patient-view, then order-sign over the active BMA orders as drafts; never raises for one patient's
    chart (the error is in the result, so one bad chart cannot stop a run of a million).

    `resources_by_type` holds the patient's resources (and the Medications their orders reference), as an
    EHR would send them in prefetch; duplicates of a (type, id) are kept once, as prefetch does."""
    try:
        return _evaluate(runtime_parts, patient_id, _deduplicated(resources_by_type), as_of_instant(as_of))
    except Exception as exc:  # noqa: BLE001 - reported per patient, counted in the summary
        return PatientResult(patient_id, error=f"{type(exc).__name__}: {str(exc)[:200]}")


def _evaluate(parts: RuntimeParts, patient_id: str, by_type: ResourcesByType, now: datetime) -> PatientResult:
    from cds_service.pipeline import evaluate_resolved

    context: dict[str, Any] = {"userId": "Practitioner/population-run", "patientId": patient_id}
    viewed = evaluate_resolved(parts, parts.service(PATIENT_VIEW), context, by_type, now=now)
    cards = _card_results(PATIENT_VIEW, viewed.cards)
    drafts = _active_bma_orders(viewed.facts, by_type)
    if drafts:
        chart, bundle = _as_drafts(by_type, drafts)
        signed = evaluate_resolved(
            parts, parts.service(ORDER_SIGN), {**context, "draftOrders": bundle}, chart, now=now
        )
        cards += _card_results(ORDER_SIGN, signed.cards)
    findings = list(_data_findings(viewed.facts.data_issues))
    if not by_type.get("Patient"):
        findings.append(DataFinding(NO_PATIENT, "", "no Patient resource in the export", 1))
    return PatientResult(
        patient_id=patient_id,
        cards=tuple(sorted(cards)),
        unmapped=_unmapped_codes(viewed.facts.unmapped),
        data_findings=tuple(sorted(findings)),
        orders_signed=len(drafts),
        resources=sum(len(items) for items in by_type.values()),
    )


def _deduplicated(by_type: ResourcesByType) -> ResourcesByType:
    """Each (type, id) once, first kept, as `cds_service.prefetch` keeps a resource sent under two keys; a
    resource without a string id is kept (the mappers report it)."""
    seen: set[tuple[str, str]] = set()
    kept: ResourcesByType = {}
    for resource_type, items in by_type.items():
        if resource_type == "OperationOutcome":
            continue
        for resource in items:
            rid = resource.get("id") if isinstance(resource, dict) else None
            if isinstance(rid, str):
                if (resource_type, rid) in seen:
                    continue
                seen.add((resource_type, rid))
            kept.setdefault(resource_type, []).append(resource)
    return kept


def _card_results(service: str, cards: list[dict[str, Any]]) -> list[CardResult]:
    return [
        CardResult(
            service, str(((card.get("source") or {}).get("topic") or {}).get("code")), card["indicator"]
        )
        for card in cards
    ]


def _active_bma_orders(facts: ClinicalFacts, by_type: ResourcesByType) -> list[dict[str, Any]]:
    """The chart's active orders the code sets read as a bone-modifying agent: what a clinician would be
    signing (or re-signing) today, so order-sign's checks (renal dose, dental, calcium) are predicted."""
    wanted = {m.reference for m in facts.medications if m.agent_class == "bma" and m.is_active}
    return [r for r in by_type.get("MedicationRequest") or [] if f"MedicationRequest/{r.get('id')}" in wanted]


def _as_drafts(
    by_type: ResourcesByType, orders: list[dict[str, Any]]
) -> tuple[ResourcesByType, dict[str, Any]]:
    """The orders as draft MedicationRequests, taken out of the chart: an order being signed is not also
    an active order already on the chart (it would be its own duplicate)."""
    ids = {id(order) for order in orders}
    chart = {**by_type, "MedicationRequest": [r for r in by_type["MedicationRequest"] if id(r) not in ids]}
    drafts = []
    for order in orders:
        draft = copy.deepcopy(order)
        draft["status"] = "draft"
        drafts.append({"resource": draft})
    return chart, {"resourceType": "Bundle", "type": "collection", "entry": drafts}


def _data_kind(issue: UnusableResult) -> str:
    if issue.analyte == FOREIGN:
        return OTHER_PATIENT
    if issue.reason.startswith(("unit '", "cannot convert")):
        return UNIT_CONFLICT
    return UNUSABLE


def _data_findings(issues: tuple[UnusableResult, ...]) -> list[DataFinding]:
    counts: dict[tuple[str, str, str], int] = {}
    for issue in issues:
        key = (_data_kind(issue), issue.analyte, issue.reason[:160])
        counts[key] = counts.get(key, 0) + 1
    return [DataFinding(kind, analyte, reason, n) for (kind, analyte, reason), n in counts.items()]


def _unmapped_codes(entries: tuple[UnmappedEntry, ...]) -> tuple[UnmappedCode, ...]:
    """One row per (system, code, display, concept), with how many resources carry it. An entry with no
    coding at all is a row with an empty system and code: the site must add a code to the chart, not
    to the code sets, and the report says so."""
    counts: dict[tuple[str, str, str, str], int] = {}
    for entry in entries:
        for system, code in _codings(entry.codes):
            key = (system, code, entry.text, entry.concept)
            counts[key] = counts.get(key, 0) + 1
    return tuple(sorted(UnmappedCode(*key, n) for key, n in counts.items()))


def _codings(codes: str) -> list[tuple[str, str]]:
    """`UnmappedEntry.codes` ("system|code, system|code", shortened to 120 characters) back to pairs; a
    pair cut by the shortening is dropped rather than reported wrong."""
    if codes == "no coding":
        return [("", "")]
    from fhir_mappings.unmapped import TEXT_LIMIT

    pairs = codes.split(", ")
    if len(codes) >= TEXT_LIMIT and len(pairs) > 1:
        pairs = pairs[:-1]
    found = []
    for pair in pairs:
        system, _, code = pair.rpartition("|")
        found.append(("" if system == "no system" else system, code))
    return found
