"""Small builders of `ClinicalFacts` for rule unit tests.

Rule tests describe a patient in one clinical sentence and build exactly the facts that sentence names,
so a reader can hold each test against the catalog. Dates are relative to NOW.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fhir_mappings.facts import (
    CalciumAssessment,
    CareEvent,
    ClinicalFacts,
    CodedResult,
    ConditionFact,
    CreatinineClearance,
    Evidence,
    ImagingFact,
    LabResult,
    MedicationFact,
    PatientFact,
)
from fhir_mappings.thresholds import Thresholds

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
THRESHOLDS = Thresholds.load()

_counter = iter(range(1, 1_000_000))


def _ref(resource_type: str) -> str:
    return f"{resource_type}/{resource_type.lower()}-{next(_counter)}"


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def condition(
    category: str, *, verification: str = "confirmed", days: float = 60, code: str = "C79.51"
) -> ConditionFact:
    day = days_ago(days).date()
    return ConditionFact(category, verification, day, day, _ref("Condition"), code, f"{category} ({code})")  # type: ignore[arg-type]


def lung_cancer(days: float = 200) -> ConditionFact:
    return condition("lung_cancer", days=days, code="C34.90")


def bone_metastasis(verification: str = "confirmed", days: float = 60) -> ConditionFact:
    return condition("bone_metastasis", verification=verification, days=days, code="C79.51")


CANONICAL_UNITS = {
    "calcium_total": "mg/dL",
    "calcium_corrected": "mg/dL",
    "calcium_ionized": "mmol/L",
    "albumin": "g/dL",
    "creatinine": "mg/dL",
    "alp": "U/L",
    "phosphate": "mg/dL",
    "magnesium": "mg/dL",
    "weight": "kg",
    "pain_score": "{score}",
    "ecog": "{score}",
    "mirels_score": "{score}",
    "ntx_urine": "nmol{BCE}/mmol{creat}",
    "egfr": "mL/min/{1.73_m2}",
}


def lab(
    analyte: str,
    value: float,
    *,
    days: float = 3,
    unit: str | None = None,
    low: float | None = None,
    high: float | None = None,
) -> LabResult:
    canonical = CANONICAL_UNITS.get(analyte, unit or "1")
    return LabResult(
        analyte,
        value,
        canonical,
        value,
        unit or canonical,
        days_ago(days),
        _ref("Observation"),
        f"http://loinc.org|{analyte}",
        low,
        high,
    )


def coded(analyte: str, value: str, *, days: float = 3) -> CodedResult:
    return CodedResult(analyte, value, days_ago(days), _ref("Observation"), analyte)


def medication(
    agent: str,
    *,
    agent_class: str = "bma",
    status: str = "active",
    days: float = 30,
    dose_mg: float | None = None,
    interval_days: float | None = 28,
    product: str | None = None,
    draft: bool = False,
    intent: str = "order",
    regimen: str | None = "auto",
    end_days: float | None = None,
) -> MedicationFact:
    """`regimen` "auto" classifies a BMA as the mapping does (`fhir_mappings.regimens`, RULES.md 7.1.5);
    give it explicitly to state what the order says (None: not classified at all)."""
    start = days_ago(days).date()
    if regimen == "auto":
        regimen = _auto_regimen(agent, agent_class, product, dose_mg, interval_days)
    return MedicationFact(
        agent,
        agent_class,
        product,
        "draft" if draft else status,
        intent,
        start,
        start,
        dose_mg,
        interval_days,
        _ref("MedicationRequest"),
        agent.replace("_", " "),
        is_draft=draft,
        regimen=regimen,  # type: ignore[arg-type]
        end=None if end_days is None else days_ago(end_days).date(),
    )


PRODUCT_REGIMENS = {"xgeva": "oncology", "prolia": "osteoporosis"}
ALWAYS_OSTEOPOROSIS = frozenset({"alendronate", "risedronate"})


def _auto_regimen(
    agent: str, agent_class: str, product: str | None, dose_mg: float | None, interval_days: float | None
) -> str | None:
    from fhir_mappings.regimens import classify_regimen

    if agent_class != "bma":
        return None
    return classify_regimen(
        agent,
        fixed="osteoporosis" if agent in ALWAYS_OSTEOPOROSIS else None,
        product=PRODUCT_REGIMENS.get(product or ""),  # type: ignore[arg-type]
        dose_mg=dose_mg,
        interval_days=interval_days,
        t=THRESHOLDS,
    )


def denosumab(**kw: Any) -> MedicationFact:
    kw.setdefault("dose_mg", 120)
    kw.setdefault("product", "xgeva")
    return medication("denosumab", **kw)


def zoledronic_acid(**kw: Any) -> MedicationFact:
    kw.setdefault("dose_mg", 4.0)
    return medication("zoledronic_acid", **kw)


def supplement(agent: str, **kw: Any) -> MedicationFact:
    return medication(agent, agent_class="supplement", interval_days=1, **kw)


def imaging(*modalities: str, days: float = 20, regions: tuple[str, ...] = ()) -> ImagingFact:
    return ImagingFact(
        frozenset(modalities), days_ago(days).date(), _ref("ImagingStudy"), "", frozenset(regions)
    )


def event(
    kind: str,
    *,
    days: float = 10,
    status: str = "completed",
    resource_type: str = "Procedure",
    draft: bool = False,
) -> CareEvent:
    return CareEvent(kind, status, days_ago(days).date(), _ref(resource_type), resource_type, is_draft=draft)


def calcium(
    value: float,
    *,
    unit: str = "mg/dL",
    basis: str = "albumin-corrected",
    low: float = 8.5,
    high: float = 10.5,
    grade: int = 0,
    critical: bool = False,
    days: float = 3,
) -> CalciumAssessment:
    status = "low" if value < low else "high" if value > high else "normal"
    value_mg_dl = value if unit == "mg/dL" else (None if basis == "ionized" else round(value * 4.008, 3))
    ev = (Evidence("Calcium", f"{value} {unit}", days_ago(days).date(), _ref("Observation")),)
    return CalciumAssessment(
        basis,
        value,
        unit,
        value_mg_dl,
        low,
        high,
        "reference range",
        status,
        grade,
        critical,
        days_ago(days).date(),
        ev,
    )  # type: ignore[arg-type]


def crcl(value: float | None, missing: tuple[str, ...] = ()) -> CreatinineClearance:
    ev = (
        ()
        if value is None
        else (Evidence("Creatinine clearance (Cockcroft-Gault)", f"{value:.0f} mL/min", NOW.date(), None),)
    )
    return CreatinineClearance(value, missing, ev)


def facts(
    *,
    hook: str = "patient-view",
    age: int | None = 67,
    sex: str | None = "male",
    conditions=(),
    labs=(),
    coded_results=(),
    medications=(),
    imaging_studies=(),
    events=(),
    calcium_status=None,
    clearance=None,
    drafts=(),
    draft_events=(),
    with_lung_cancer: bool = True,
) -> ClinicalFacts:
    """A patient with lung cancer (unless told otherwise) and exactly the facts given."""
    all_conditions = ((lung_cancer(),) if with_lung_cancer else ()) + tuple(conditions)
    lab_map: dict[str, tuple[LabResult, ...]] = {}
    for result in sorted(labs, key=lambda r: r.effective, reverse=True):
        lab_map[result.analyte] = lab_map.get(result.analyte, ()) + (result,)
    coded_map: dict[str, tuple[CodedResult, ...]] = {}
    for result in sorted(coded_results, key=lambda r: r.effective, reverse=True):
        coded_map[result.analyte] = coded_map.get(result.analyte, ()) + (result,)
    return ClinicalFacts(
        hook=hook,
        now=NOW,
        patient=PatientFact("Patient/p1", age, sex),  # type: ignore[arg-type]
        conditions=all_conditions,
        labs=lab_map,
        coded_results=coded_map,
        medications=tuple(medications),
        imaging=tuple(imaging_studies),
        care_events=tuple(events),
        calcium=calcium_status,
        crcl=clearance,
        drafts=tuple(drafts),
        draft_events=tuple(draft_events),
    )


def with_hook(base: ClinicalFacts, hook: str) -> ClinicalFacts:
    return replace(base, hook=hook)


# Raw FHIR through the real pipeline steps, for order-hook rules whose suggestions rewrite or remove the
# clinician's drafted orders: facts are built from FHIR, the service runs its rules, and cards are
# rendered with the shipped templates and order catalog, so every update/delete names a real draft.

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
FHIR_PATIENT = "p1"


def fhir_medication_request(
    rid: str,
    code: str,
    text: str,
    *,
    dose_mg: float | None,
    period: float,
    period_unit: str,
    status: str = "draft",
    system: str = RXNORM,
) -> dict[str, Any]:
    """A MedicationRequest as an EHR sends it (in draftOrders when status is draft, else in the chart)."""
    dosage: dict[str, Any] = {
        "text": text,
        "timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": period_unit}},
    }
    if dose_mg is not None:
        quantity = {"value": dose_mg, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
        dosage["doseAndRate"] = [{"doseQuantity": quantity}]
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}], "text": text},
        "subject": {"reference": f"Patient/{FHIR_PATIENT}"},
        "authoredOn": (NOW - timedelta(days=0 if status == "draft" else 60)).date().isoformat(),
        "dosageInstruction": [dosage],
    }


def fhir_condition(rid: str, code: str, *, verification: str = "confirmed") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{FHIR_PATIENT}"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}
            ]
        },
        "onsetDateTime": "2026-06-01",
    }


def fhir_chart(*resources: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A patient with lung cancer (C34.90) plus the given chart resources, grouped by type."""
    by_type: dict[str, list[dict[str, Any]]] = {
        "Patient": [
            {"resourceType": "Patient", "id": FHIR_PATIENT, "gender": "male", "birthDate": "1958-02-01"}
        ],
        "Condition": [fhir_condition("lung", "C34.90")],
    }
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    return by_type


def order_hook_cards(
    hook: str,
    chart: dict[str, list[dict[str, Any]]],
    drafts: list[dict[str, Any]],
    selected: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The cards the order-select or order-sign service returns for this chart and these draft orders
    (order-select: `selected` names the selections, every draft by default)."""
    from fhir_mappings.build_facts import build_facts
    from fhir_mappings.codesets import load_codesets
    from hooks.cards import load_card_templates, render_card
    from hooks.order_select import SERVICE as ORDER_SELECT
    from hooks.order_sign import SERVICE as ORDER_SIGN
    from hooks.orders import load_order_catalog
    from hooks.runner import run_rules

    service = {"order-select": ORDER_SELECT, "order-sign": ORDER_SIGN}[hook]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]}
    built = build_facts(
        FHIR_PATIENT,
        chart,
        hook=hook,
        now=NOW,
        draft_orders=bundle,
        codesets=load_codesets(),
        thresholds=THRESHOLDS,
    )
    every = [f"{d['resourceType']}/{d['id']}" for d in drafts]
    selections = (every if selected is None else selected) if hook == "order-select" else None
    templates = load_card_templates()
    by_ref = {f"{d['resourceType']}/{d['id']}": d for d in drafts}
    return [
        render_card(
            finding,
            templates[finding.rule_id],
            patient_id=FHIR_PATIENT,
            draft_orders_by_ref=by_ref,
            order_catalog=load_order_catalog(),
            chart_orders_by_ref=chart_orders(chart),
        )
        for finding in run_rules(service, built, THRESHOLDS, selections=selections)
    ]


def card_for(cards: list[dict[str, Any]], rule_id: str) -> dict[str, Any] | None:
    return next((c for c in cards if c["source"]["topic"]["code"] == rule_id), None)


def validate_action_resources(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of the card; each create/update resource is validated as FHIR R4 (fhir.resources R4B)."""
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.servicerequest import ServiceRequest

    models = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}
    actions = [a for s in card.get("suggestions", ()) for a in s.get("actions", ())]
    for action in actions:
        if "resource" in action:
            models[action["resource"]["resourceType"]].model_validate(action["resource"])
    return actions


def patient_view_card(evaluate: Any, chart: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """One patient-view rule's card for a raw FHIR chart: facts built by `build_facts`, the card rendered
    with the shipped template and order catalog. None when the rule does not fire."""
    from fhir_mappings.build_facts import build_facts
    from fhir_mappings.codesets import load_codesets
    from hooks.cards import load_card_templates, render_card
    from hooks.orders import load_order_catalog

    built = build_facts(
        FHIR_PATIENT,
        chart,
        hook="patient-view",
        now=NOW,
        draft_orders=None,
        codesets=load_codesets(),
        thresholds=THRESHOLDS,
    )
    finding = evaluate(built, THRESHOLDS)
    if finding is None:
        return None
    template = load_card_templates()[finding.rule_id]
    catalog = load_order_catalog()
    return render_card(
        finding,
        template,
        patient_id=FHIR_PATIENT,
        draft_orders_by_ref={},
        order_catalog=catalog,
        chart_orders_by_ref=chart_orders(chart),
    )


def chart_orders(chart: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The chart's MedicationRequests by reference, as the pipeline hands them to the card renderer."""
    return {f"MedicationRequest/{r['id']}": r for r in chart.get("MedicationRequest", [])}


def fhir_observation(
    rid: str, system: str, code: str, value: dict[str, Any], *, days: float = 2
) -> dict[str, Any]:
    """A final Observation; `value` is its value[x] (e.g. {"valueInteger": 6})."""
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{FHIR_PATIENT}"},
        "effectiveDateTime": (NOW - timedelta(days=days)).isoformat(),
        **value,
    }


def fhir_service_request(rid: str, code: str, *, status: str = "active", days: float = 5) -> dict[str, Any]:
    """A ServiceRequest coded with one of the project's order codes."""
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": "https://bonemet-cds.org/fhir/CodeSystem/order", "code": code}]},
        "subject": {"reference": f"Patient/{FHIR_PATIENT}"},
        "authoredOn": (NOW - timedelta(days=days)).date().isoformat(),
    }


def on_regimen(
    med: MedicationFact, regimen: str | None = "oncology", *, ended_days: float | None = None
) -> MedicationFact:
    """A BMA order with its regimen (RULES.md 7.1.5) and, optionally, a stated end `ended_days` ago."""
    end = None if ended_days is None else days_ago(ended_days).date()
    return replace(med, regimen=regimen, end=end)  # type: ignore[arg-type]
