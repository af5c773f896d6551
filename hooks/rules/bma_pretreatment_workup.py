"""BMA-PRETREATMENT-WORKUP (consensus Table 1, instructions): "relevant examinations before the drug
application should include the above imaging examinations and serum markers, such as SPECT, PET-CT, MRI,
ALP, and NTX"; Table 1 precautions add serum calcium and creatinine ("pay attention to various factors
(e.g. serum calcium, serum creatinine, phosphate, magnesium, renal function, etc.)").

Applies when a BMA is being started: BMA-INITIATION fires (patient-view) or a first dose is drafted
(order hooks). Fires when calcium (total, corrected or ionized), creatinine or ALP has no result within
`lab_recency_days`, or there is no bone imaging at all (modality NM, PT, MR, CT, CR or DX). Suggests lab
orders only for what is missing (calcium with albumin, so that it can be corrected), a whole-body bone
scan when no bone imaging exists, and urine NTX when no NTX result is on file. NTX never triggers the card
by itself (catalog section 6: NTX is exploratory).

Indicator: info; **warning** (variant `no-calcium-first-dose`, RULES.md 7.3.26) when a first dose is drafted
in an order hook and there is no calcium result within `lab_recency_days`: pre-existing hypocalcemia must
be excluded and corrected before the first dose (Table 1 precautions), and a BMA can deepen it.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from fhir_mappings.facts import ClinicalFacts, Evidence, ImagingFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    CALCIUM_ANALYTES,
    bma_being_started,
    bone_imaging,
    condition_evidence,
    confirmed_bone_metastases,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    is_recent,
    lab_evidence,
    latest_of,
    medication_evidence,
)
from hooks.rules._why import lab_text, why_not_being_started
from hooks.why_not import not_fired

RULE_ID = "BMA-PRETREATMENT-WORKUP"
NTX_ANALYTES = ("ntx_urine", "ntx_serum")
REASON = "Work-up before a bone-modifying drug (consensus Table 1)"


class LabCheck(NamedTuple):
    name: str  # as listed on the card ("calcium, creatinine, ALP")
    analytes: tuple[str, ...]  # any of them answers the question
    order_keys: tuple[str, ...]  # orders.yaml keys suggested when it is missing
    order_label: str
    evidence_label: str


LAB_CHECKS = (
    LabCheck("calcium", CALCIUM_ANALYTES, ("lab_calcium", "lab_albumin"), "Calcium and albumin", "Calcium"),
    LabCheck("creatinine", ("creatinine",), ("lab_creatinine",), "Serum creatinine", "Creatinine"),
    LabCheck("ALP", ("alp", "bone_alp"), ("lab_alp",), "Alkaline phosphatase (ALP)", "Alkaline phosphatase"),
)
NO_IMAGING = "Bone imaging (bone scan, PET-CT, MRI, CT or X-ray)"


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """A BMA is being started: BMA-INITIATION fires (patient-view) or a first dose is drafted."""
    return bma_being_started(facts, t)


def missing_labs(facts: ClinicalFacts, t: Thresholds) -> tuple[LabCheck, ...]:
    window = t["lab_recency_days"]
    return tuple(c for c in LAB_CHECKS if not is_recent(facts, latest_of(facts, c.analytes), window))


def has_ntx(facts: ClinicalFacts) -> bool:
    return latest_of(facts, NTX_ANALYTES) is not None


@rule(
    RULE_ID,
    consensus_section="Table 1",
    needs=("Observation", "MedicationRequest", "ImagingStudy", "DiagnosticReport"),
)
def bma_pretreatment_workup(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-PRETREATMENT-WORKUP (consensus Table 1): calcium, creatinine, ALP and bone imaging first."""
    if not is_included(facts, t):
        return not_fired(lambda: why_not_being_started(facts, t))
    labs = missing_labs(facts, t)
    imaging = bone_imaging(facts)
    if not labs and imaging:
        return not_fired(lambda: _ready(facts, t, imaging))
    days = fmt_number(t["lab_recency_days"])
    items = [c.name for c in labs] + ([] if imaging else ["bone imaging"])
    missing = [f"{c.evidence_label} within {days} days" for c in labs] + ([] if imaging else [NO_IMAGING])
    no_calcium = is_order_hook(facts) and any(c.name == "calcium" for c in labs)
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if no_calcium else "info",
        variant="no-calcium-first-dose" if no_calcium else "default",
        values={"missing_items": ", ".join(items), "recency_days": days},
        evidence=(*_reason_evidence(facts), *_lab_evidence(facts, t), *_imaging_evidence(imaging)),
        missing=tuple(missing),
        suggestions=_suggestions(facts, labs, bool(imaging)),
        selection_behavior="any",
    )


def _suggestions(
    facts: ClinicalFacts, labs: tuple[LabCheck, ...], imaged: bool
) -> tuple[SuggestionSpec, ...]:
    found = [SuggestionSpec(c.order_label, tuple(_create(k) for k in c.order_keys)) for c in labs]
    if not imaged:
        found.append(SuggestionSpec("Whole-body bone scan (ECT)", (_create("imaging_bone_scan_whole_body"),)))
    if not has_ntx(facts):
        found.append(SuggestionSpec("Urine NTX (where available)", (_create("lab_ntx_urine"),)))
    return tuple(found)


def _create(order_key: str) -> ActionSpec:
    return ActionSpec("create", order_key=order_key, reason=REASON)


def _reason_evidence(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    """Why a BMA is being started: the drafted order, or the confirmed bone metastasis."""
    if is_order_hook(facts):
        return tuple(medication_evidence(m) for m in drafted_bmas(facts))
    return tuple(condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts))


def _lab_evidence(facts: ClinicalFacts, t: Thresholds) -> tuple[Evidence, ...]:
    """The newest result of each check, recent or not; a stale one says so."""
    window = t["lab_recency_days"]
    shown = []
    for check in LAB_CHECKS:
        lab = latest_of(facts, check.analytes)
        if lab is None:
            continue
        ev = lab_evidence(check.evidence_label, lab)
        stale = "" if is_recent(facts, lab, window) else f"older than {fmt_number(window)} days"
        note = "; ".join(n for n in (ev.note, stale) if n)
        shown.append(Evidence(ev.label, ev.value, ev.when, ev.reference, note))
    return tuple(shown)


def _imaging_evidence(imaging: tuple[ImagingFact, ...]) -> tuple[Evidence, ...]:
    dated = [i for i in imaging if i.day is not None]
    newest = max(dated, key=lambda i: i.day or date.min, default=imaging[0] if imaging else None)
    if newest is None:
        return ()
    return (Evidence("Bone imaging", ", ".join(sorted(newest.modalities)), newest.day, newest.reference),)


def _ready(facts: ClinicalFacts, t: Thresholds, imaging: tuple[ImagingFact, ...]) -> str:
    labs = "; ".join(
        f"{check.name} {lab_text(lab)}"
        for check in LAB_CHECKS
        if (lab := latest_of(facts, check.analytes)) is not None
    )
    shown = _imaging_evidence(imaging)
    scan = f"{shown[0].value} on {shown[0].when.isoformat()}" if shown and shown[0].when else "undated"
    return (
        f"Work-up complete: {labs} (all within {fmt_number(t['lab_recency_days'])} days); "
        f"bone imaging on record ({scan})"
    )
