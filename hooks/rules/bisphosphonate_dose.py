"""BISPHOSPHONATE-DOSE (consensus Table 1; RULES.md 7.3.25): Table 1 gives "Ibandronate sodium: 6 mg, IV
> 15 min, repeat every 3-4 weeks; loading therapy: 6 mg/day, IV > 15 min for 3 consecutive days" and
"Incadronate disodium: for most patients, <= 10 mg once; for patients > 65 years, 5 mg once (recommended);
IV drip for 2-4 h every 3-4 weeks".

Order hooks only. Inclusion: an ibandronate or incadronate draft under check (7.3.20) that is not an
osteoporosis regimen (ibandronate 150 mg by mouth monthly or 3 mg IV every 3 months is not Table 1's
subject). Decision: the stated dose against the right dose, and an interval shorter than 3 weeks (other
than the daily 3-day ibandronate loading). Suggestion: an `update` of the draft to the right dose, every 4
weeks, keeping the drafted drug's own coding (incadronate has no RxNorm or ATC code).

Ibandronate in renal impairment follows its label. Source (looked up with the search tool): Bondronat 6 mg
concentrate for solution for infusion, SmPC section 4.2 (medicines.org.uk/emc/product/9375/smpc, updated
20 Jan 2022): 6 mg IV every 3-4 weeks over at least 15 minutes; the 15-minute infusion only with normal
renal function or mild impairment, no data below CrCl 50 mL/min. Its renal table (reproduced from the Swiss
SmPC in Aapro et al., Ann Oncol 2008;19:420, Table 4 of PMC3459591): CrCl >= 50 mL/min 6 mg; 30-49 4 mg;
< 30 2 mg (or not recommended), infused over 1 hour in 500 mL. The catalog's "CrCl 30-50: 4 mg" therefore
means 30 <= CrCl < 50; CrCl exactly 50 takes 6 mg. Thresholds: `ibandronate_crcl_*`, `ibandronate_dose_*`.

Decisions beyond the catalog:
- Ibandronate when CrCl cannot be computed: a dose above 6 mg is corrected to 6 mg; otherwise an info card
  says the dose could not be checked against the kidneys and lists what is missing (never guessed).
- Incadronate when age is unknown: checked against 10 mg only, and the card says age is missing.
- A dose below the right one is corrected too (under-treatment); the interval is read from the order's
  timing; infusion duration is not read from orders, so the card states it.
"""

from __future__ import annotations

from typing import NamedTuple

from fhir_mappings.creatinine_clearance import format_clearance
from fhir_mappings.facts import ClinicalFacts, MedicationFact
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    crcl_missing,
    drafted_bmas,
    fmt_number,
    is_order_hook,
    is_osteoporosis_regimen,
    medication_evidence,
    regimen_note,
)
from hooks.rules._why import ORDER_HOOK_ONLY
from hooks.why_not import not_fired

RULE_ID = "BISPHOSPHONATE-DOSE"
IBANDRONATE_ORDERS = {6: "ibandronate_6mg_q4w", 4: "ibandronate_4mg_q4w", 2: "ibandronate_2mg_q4w"}
INCADRONATE_ORDERS = {10: "incadronate_10mg_q4w", 5: "incadronate_5mg_q4w"}
LABEL_SOURCE = "Bondronat (ibandronic acid) 6 mg SmPC section 4.2: renal dose table"


class DoseCheck(NamedTuple):
    """One draft's problem: why, the right dose and the order-catalog entry to update it to."""

    order: MedicationFact
    reason: str
    right_dose: float | None
    order_key: str | None


def ibandronate_dose(facts: ClinicalFacts, t: Thresholds) -> float | None:
    """The label dose for the latest CrCl; None when CrCl cannot be computed."""
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    if crcl is None:
        return None
    if crcl < t["ibandronate_crcl_severe_below"]:
        return t["ibandronate_dose_crcl_below_30_mg"]
    if crcl < t["ibandronate_crcl_reduced_below"]:
        return t["ibandronate_dose_crcl_30_50_mg"]
    return t["ibandronate_oncology_dose_mg"]


def incadronate_max_dose(facts: ClinicalFacts, t: Thresholds) -> float:
    age = facts.patient.age_years
    if age is not None and age > t["incadronate_elderly_age_above"]:
        return t["incadronate_elderly_dose_mg"]
    return t["incadronate_oncology_dose_max_mg"]


def check(order: MedicationFact, facts: ClinicalFacts, t: Thresholds) -> DoseCheck | None:
    if order.agent == "ibandronate":
        return _check_ibandronate(order, facts, t)
    if order.agent == "incadronate":
        return _check_incadronate(order, facts, t)
    return None


def _check_ibandronate(order: MedicationFact, facts: ClinicalFacts, t: Thresholds) -> DoseCheck | None:
    right, tolerance = ibandronate_dose(facts, t), t["dose_tolerance_mg"]
    full = t["ibandronate_oncology_dose_mg"]
    dose = order.dose_mg
    if right is None:
        if dose is not None and dose > full + tolerance:
            return DoseCheck(
                order, f"above the {fmt_number(full)} mg dose", full, _key(IBANDRONATE_ORDERS, full)
            )
        return DoseCheck(order, "renal dose not checked: creatinine clearance is unknown", None, None)
    if dose is None:
        return DoseCheck(order, "dose not stated", right, _key(IBANDRONATE_ORDERS, right))
    if abs(dose - right) > tolerance:
        return DoseCheck(order, _dose_reason(dose, right), right, _key(IBANDRONATE_ORDERS, right))
    if _too_frequent(order, t, loading_allowed=abs(dose - full) <= tolerance):
        return DoseCheck(order, "given more often than every 3 weeks", right, _key(IBANDRONATE_ORDERS, right))
    return None


def _check_incadronate(order: MedicationFact, facts: ClinicalFacts, t: Thresholds) -> DoseCheck | None:
    most, dose = incadronate_max_dose(facts, t), order.dose_mg
    key = _key(INCADRONATE_ORDERS, most)
    if dose is None:
        return DoseCheck(order, "dose not stated", most, key)
    if dose > most + t["dose_tolerance_mg"]:
        return DoseCheck(order, f"above the {fmt_number(most)} mg maximum", most, key)
    if _too_frequent(order, t, loading_allowed=False):
        return DoseCheck(order, "given more often than every 3 weeks", most, key)
    return None


def _too_frequent(order: MedicationFact, t: Thresholds, *, loading_allowed: bool) -> bool:
    interval = order.interval_days
    if interval is None or interval >= t["ibandronate_interval_min_days"]:
        return False
    return not (loading_allowed and interval <= t["ibandronate_loading_interval_max_days"])


def _dose_reason(dose: float, right: float) -> str:
    return f"{'above' if dose > right else 'below'} the label dose of {fmt_number(right)} mg"


def _key(orders: dict[int, str], dose: float) -> str:
    return orders[round(dose)]


@rule(RULE_ID, consensus_section="Table 1", needs=("Observation", "MedicationRequest"))
def bisphosphonate_dose(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """BISPHOSPHONATE-DOSE (Table 1): ibandronate 6 mg (label renal doses); incadronate <= 10 mg."""
    if not is_order_hook(facts):
        return not_fired(ORDER_HOOK_ONLY)
    drafts = tuple(m for m in drafted_bmas(facts) if not is_osteoporosis_regimen(m))
    checks = [c for m in drafts if (c := check(m, facts, t)) is not None]
    if not checks:
        return not_fired(lambda: _doses_right(facts, drafts, t))
    fixable = [c for c in checks if c.order_key is not None]
    first = (fixable or checks)[0]
    variant = "unchecked" if not fixable else first.order.agent
    return Finding(
        rule_id=RULE_ID,
        indicator="warning" if fixable else "info",
        variant=variant,
        values=_values(facts, t, first, checks),
        evidence=(
            *(medication_evidence(c.order) for c in checks),
            *(facts.crcl.evidence if facts.crcl else ()),
        ),
        missing=_missing(facts, checks),
        suggestions=tuple(_update(c) for c in fixable),
        selection_behavior="any",
        outside_sources=(LABEL_SOURCE,) if any(c.order.agent == "ibandronate" for c in checks) else (),
    )


def _values(facts: ClinicalFacts, t: Thresholds, first: DoseCheck, checks: list[DoseCheck]) -> dict[str, str]:
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    return {
        "drug": first.order.display,
        "dose": fmt_number(first.order.dose_mg) if first.order.dose_mg is not None else "not stated",
        "right_dose": fmt_number(first.right_dose) if first.right_dose is not None else "unknown",
        "reason": first.reason,
        "crcl": fmt_number(crcl) if crcl is not None else "not computable",
        "age": str(facts.patient.age_years) if facts.patient.age_years is not None else "unknown",
        "elderly_age": fmt_number(t["incadronate_elderly_age_above"]),
        "regimen_note": regimen_note(tuple(c.order for c in checks)),
    }


def _missing(facts: ClinicalFacts, checks: list[DoseCheck]) -> tuple[str, ...]:
    missing: list[str] = []
    if any(c.order.agent == "ibandronate" for c in checks):
        missing += crcl_missing(facts)
    if facts.patient.age_years is None and any(c.order.agent == "incadronate" for c in checks):
        missing.append("age (incadronate: 5 mg over 65 years)")
    return tuple(missing)


def _update(c: DoseCheck) -> SuggestionSpec:
    return SuggestionSpec(
        f"Change {c.order.display} to {fmt_number(c.right_dose)} mg IV every 3-4 weeks",
        (ActionSpec("update", order_key=c.order_key, target=c.order.reference),),
        is_recommended=True,
    )


def _doses_right(facts: ClinicalFacts, drafts: tuple[MedicationFact, ...], t: Thresholds) -> str:
    checked = [m for m in drafts if m.agent in ("ibandronate", "incadronate")]
    if not checked:
        return "No ibandronate or incadronate at the oncology regimen among the orders being checked"
    return "; ".join(_right_text(m, facts, t) for m in checked)


def _right_text(order: MedicationFact, facts: ClinicalFacts, t: Thresholds) -> str:
    dose = fmt_number(order.dose_mg)
    if order.agent == "incadronate":
        most = fmt_number(incadronate_max_dose(facts, t))
        return f"{order.display}: {dose} mg is within the {most} mg maximum"
    crcl = facts.crcl.value_ml_min if facts.crcl else None
    right = fmt_number(ibandronate_dose(facts, t))
    at = format_clearance(round(crcl, 1)) if crcl is not None else "unknown"
    return f"{order.display}: {dose} mg is the label dose ({right} mg at CrCl {at} mL/min)"
