"""BMA-INITIATION (consensus 6.3, Table 1): "Denosumab and bisphosphonates are recommended for the
treatment of patients with bone metastasis in lung cancer ... and provide benefits for patients with
confirmed bone metastasis, regardless of clinical symptoms." Table 1: "recommended for patients with
radiographic bone destruction or metastasis if there are no contraindications, but ... not recommended
for patients with a risk of bone metastasis alone but undiagnosed"; "recommended for patients with a life
expectancy of at least 3 months, and the treatment duration is recommended at 18 to 24 months".

Fires in patient-view for confirmed bone metastasis with no active BMA (`_shared.bma_indicated`, which
also excludes documented life expectancy under 3 months), unless calcium is low (then
HYPOCALCEMIA-CORRECTION fires instead). Suspected metastasis never fires it.

Suggestions (at most one): denosumab 120 mg SC every 4 weeks, recommended (consensus 6.3.1, 244 study);
zoledronic acid as the alternative at the label dose for the latest CrCl (the same table ZA-RENAL-DOSING
applies). Variants: `default` (both offered), `za-not-recommended` (CrCl below the label floor: no
zoledronic acid offered) and `za-dose-unknown` (CrCl cannot be computed: no zoledronic acid offered,
the card lists what is missing; a dose is never guessed).

Switch (RULES.md 7.1.5, 7.2.10): an osteoporosis regimen (Prolia 60 mg every 6 months, zoledronic acid
5 mg yearly, oral bisphosphonates) is not a BMA for bone metastasis, so the card fires for a patient on one
with its `switch-*` variants: stop the osteoporosis regimen and start the oncology one. Each suggestion both
creates the oncology order and stops the osteoporosis MedicationRequest (an `update` to status `stopped`):
denosumab 60 mg and 120 mg are never given together (Xgeva label).

Hypercalcemia (7.2.10): with calcium above the upper limit the card does not tell to take calcium; it says
calcium and vitamin D start once calcium is back to normal (Table 1 asks for them with the drug, but not
into hypercalcemia).

Decision beyond the catalog: a coded assessment "life expectancy under 3 months" = false counts as
documentation of at least 3 months; otherwise the card asks the clinician to confirm it.
"""

from __future__ import annotations

from typing import NamedTuple

from fhir_mappings.facts import ClinicalFacts, Evidence, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.orders import STOP_ORDER
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    active_osteoporosis_bmas,
    bma_indicated,
    calcium_is_low,
    condition_evidence,
    confirmed_bone_metastases,
    crcl_missing,
    fmt_number,
    medication_evidence,
)
from hooks.rules._why import CHART_REVIEW_ONLY, low_calcium, why_bma_not_indicated
from hooks.rules.za_renal_dosing import LABEL_DOSE_SOURCE, za_label_dose
from hooks.why_not import not_fired

RULE_ID = "BMA-INITIATION"
REASON = "Confirmed bone metastasis of lung cancer (consensus 6.3, Table 1)"
STOP_REASON = "Switched to the oncology regimen of a bone-modifying drug for confirmed bone metastasis"
XGEVA_SOURCE = "Xgeva label (patients receiving Xgeva should not take Prolia: same active ingredient)"
LIFE_EXPECTANCY_ASSESSMENT = "life_expectancy_under_3_months"


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Patient-view, confirmed bone metastasis, no active BMA, no documented life expectancy < 3 months."""
    return facts.hook == PATIENT_VIEW and bma_indicated(facts, t)


def is_excluded(facts: ClinicalFacts) -> bool:
    """Table 1: pre-existing hypocalcemia is corrected first (HYPOCALCEMIA-CORRECTION fires instead)."""
    return calcium_is_low(facts)


def life_expectancy_documented(facts: ClinicalFacts) -> tuple[Evidence, ...]:
    """The newest coded life-expectancy assessment, when it says the patient is not under 3 months."""
    latest = facts.latest_coded(LIFE_EXPECTANCY_ASSESSMENT)
    if latest is None or latest.value != "false":
        return ()
    return (Evidence("Life expectancy under 3 months", "no", latest.effective.date(), latest.reference),)


class ZaOption(NamedTuple):
    variant: str
    dose: float | None = None
    suggestion: SuggestionSpec | None = None


def zoledronic_acid_option(
    facts: ClinicalFacts, t: Thresholds, stops: tuple[ActionSpec, ...] = ()
) -> ZaOption:
    """Decision for the alternative from the latest CrCl: the variant, and the label dose if there is one."""
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    if crcl is None:
        return ZaOption("za-dose-unknown")
    label = za_label_dose(crcl, t)
    if label is None:
        return ZaOption("za-not-recommended")
    dose, key = label
    suggestion = SuggestionSpec(
        f"Alternative: zoledronic acid {fmt_number(dose)} mg IV over at least 15 min every 3-4 weeks"
        + ("; stop the osteoporosis regimen" if stops else ""),
        (ActionSpec("create", order_key=key, reason=REASON), *stops),
    )
    return ZaOption("default", dose, suggestion)


def osteoporosis_stops(osteoporosis: tuple[MedicationFact, ...]) -> tuple[ActionSpec, ...]:
    """7.1.5 switch: stop each active osteoporosis regimen together with the start of the oncology one."""
    return tuple(
        ActionSpec("update", order_key=STOP_ORDER, target=m.reference, reason=STOP_REASON)
        for m in osteoporosis
    )


@rule(RULE_ID, consensus_section="6.3, Table 1", needs=("Observation", "MedicationRequest"))
def bma_initiation(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BMA-INITIATION (consensus 6.3, Table 1): start a bone-modifying drug for confirmed bone metastasis."""
    if not is_included(facts, t) or is_excluded(facts):
        return not_fired(lambda: _why_not(facts, t))
    osteoporosis = active_osteoporosis_bmas(facts)
    stops = osteoporosis_stops(osteoporosis)
    variant, za_dose, za_suggestion = zoledronic_acid_option(facts, t, stops)
    if osteoporosis:
        variant = "switch" if variant == "default" else f"switch-{variant}"
    denosumab = SuggestionSpec(
        "Denosumab 120 mg SC every 4 weeks" + ("; stop the osteoporosis regimen" if stops else ""),
        (ActionSpec("create", order_key="denosumab_120mg_q4w", reason=REASON), *stops),
        is_recommended=True,
    )
    documented = life_expectancy_documented(facts)
    evidence = (
        *(condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts)),
        *(medication_evidence(m) for m in osteoporosis),
        *(facts.calcium.evidence if facts.calcium else ()),
        *(facts.crcl.evidence if facts.crcl else ()),
        *documented,
    )
    return Finding(
        rule_id=RULE_ID,
        indicator="warning",
        variant=variant,
        values={
            **_values(facts, t, za_dose, bool(documented)),
            "osteoporosis": "; ".join(m.display for m in osteoporosis) or "none",
            "before_first_dose": _before_first_dose(facts),
        },
        evidence=evidence,
        missing=crcl_missing(facts),
        suggestions=(denosumab, za_suggestion) if za_suggestion else (denosumab,),
        selection_behavior="at-most-one",
        outside_sources=(LABEL_DOSE_SOURCE, XGEVA_SOURCE) if osteoporosis else (LABEL_DOSE_SOURCE,),
    )


def _before_first_dose(facts: ClinicalFacts) -> str:
    """7.2.10: a hypercalcemic patient is never told to take calcium now."""
    if facts.calcium is not None and facts.calcium.status == "high":
        return (
            "Before the first dose: an oral examination, and creatinine and ALP results. Calcium is high: "
            "no calcium supplement now; calcium and vitamin D start once calcium is back to normal."
        )
    return (
        "Before the first dose: calcium and vitamin D, an oral exam, and calcium, creatinine and ALP results "
        "(related cards)."
    )


def _values(facts: ClinicalFacts, t: Thresholds, za_dose: float | None, documented: bool) -> dict[str, str]:
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    return {
        "za_dose": fmt_number(za_dose) if za_dose is not None else "none",
        "crcl": f"{crcl:.1f}".rstrip("0").rstrip(".") if crcl is not None else "not computable",
        "crcl_floor": fmt_number(t["za_crcl_not_recommended_below"]),
        "crcl_missing": "; ".join(crcl_missing(facts)) or "nothing",
        "life_expectancy": "at least 3 months (documented)" if documented else "not documented",
        "duration_from": fmt_number(t["bma_duration_review_months"]),
        "duration_to": fmt_number(t["bma_duration_warning_months"]),
    }


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    return low_calcium(facts) if bma_indicated(facts, t) else why_bma_not_indicated(facts, t)
