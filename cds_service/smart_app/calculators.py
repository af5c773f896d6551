"""The calculators the rules use, with the patient's inputs (value, date) and the result, as the rules
computed them: the same `ClinicalFacts.calcium` and `ClinicalFacts.crcl` the cards quote, and the newest
Mirels score. Formulas and constants are read from thresholds.yaml, so a site's settings show here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fhir_mappings.creatinine_clearance import format_clearance
from fhir_mappings.facts import ClinicalFacts, Evidence
from fhir_mappings.thresholds import Thresholds
from hooks.rules._shared import calcium_basis_label, fmt_number


@dataclass(frozen=True)
class Calculator:
    key: str
    name: str
    formula: str
    inputs: tuple[Evidence, ...]
    result: str
    note: str = ""


def calculators(facts: ClinicalFacts, t: Thresholds) -> list[Calculator]:
    return [_calcium(facts, t), _cockcroft_gault(facts, t), _mirels(facts, t)]


def _calcium(facts: ClinicalFacts, t: Thresholds) -> Calculator:
    formula = (
        f"Payne: corrected Ca (mg/dL) = total Ca + {fmt_number(t['calcium_correction_factor_mg_dl'])} × "
        f"({fmt_number(t['calcium_correction_albumin_g_dl'])} − albumin g/dL); in SI units corrected Ca "
        f"(mmol/L) = total Ca + {fmt_number(t['calcium_correction_factor_mmol_l'])} × "
        f"({fmt_number(t['calcium_correction_albumin_g_l'])} − albumin g/L). Albumin within "
        f"{fmt_number(t['albumin_pairing_days'])} days of the calcium; ionized or laboratory-corrected "
        "calcium is used as reported."
    )
    calcium = facts.calcium
    if calcium is None:
        return Calculator("calcium", "Corrected calcium", formula, (), "no calcium result on record")
    basis = calcium_basis_label(calcium.basis, t["albumin_pairing_days"])
    limits = f"{fmt_number(calcium.low_limit)}–{fmt_number(calcium.high_limit)} {calcium.unit}"
    result = (
        f"{fmt_number(calcium.value)} {calcium.unit} ({basis}), {calcium.status} against {limits} "
        f"({calcium.limits_source})"
    )
    return Calculator("calcium", "Corrected calcium", formula, calcium.evidence, result)


def _cockcroft_gault(facts: ClinicalFacts, t: Thresholds) -> Calculator:
    formula = (
        "Cockcroft-Gault with actual body weight: CrCl (mL/min) = (140 − age) × weight (kg) / "
        f"(72 × serum creatinine (mg/dL)), × {fmt_number(t['cockcroft_gault_female_factor'])} for women. "
        f"Weight within {fmt_number(t['weight_recency_days'])} days; eGFR is never substituted."
    )
    patient = facts.patient
    age_sex = Evidence(
        "Age and sex",
        f"{patient.age_years if patient.age_years is not None else 'unknown'} years, "
        f"{patient.sex or 'sex not recorded'}",
        facts.today,
        patient.reference,
    )
    crcl = facts.crcl
    inputs = (age_sex, *(e for e in (crcl.evidence if crcl else ()) if e.reference is not None))
    if crcl is None or crcl.value_ml_min is None:
        missing = ", ".join(crcl.missing) if crcl else "everything"
        return Calculator("crcl", "Creatinine clearance", formula, inputs, f"not computed: missing {missing}")
    return Calculator(
        "crcl",
        "Creatinine clearance",
        formula,
        inputs,
        f"{format_clearance(round(crcl.value_ml_min, 1))} mL/min",
    )


def _mirels(facts: ClinicalFacts, t: Thresholds) -> Calculator:
    fixation, borderline = t["mirels_fixation_threshold"], t["mirels_borderline_score"]
    formula = (
        "Mirels (consensus Table 3): site (upper limb 1, lower limb 2, peritrochanteric 3) + pain (mild 1, "
        "moderate 2, functional 3) + lesion (blastic 1, mixed 2, lytic 3) + size (< 1/3 of the cortex 1, "
        f"1/3–2/3 2, > 2/3 3), 4 to 12. {fmt_number(fixation)} or more: preventive fixation; "
        f"{fmt_number(borderline)}: borderline; lower: radiotherapy and observation."
    )
    score = facts.latest("mirels_score")
    if score is None:
        return Calculator("mirels", "Mirels score", formula, (), "no Mirels score on record")
    inputs = (
        Evidence("Mirels score (recorded)", f"{fmt_number(score.value)} of 12", score.day, score.reference),
    )
    if score.value >= fixation:
        reading = "preventive fixation advised (FRACTURE-RISK)"
    elif score.value >= borderline:
        reading = "borderline (FRACTURE-RISK, info)"
    else:
        reading = "below the borderline score"
    return Calculator(
        "mirels",
        "Mirels score",
        formula,
        inputs,
        f"{fmt_number(score.value)}: {reading}",
        "The chart records the total score; its components are scored by the clinician.",
    )


def on_day(day: date | None) -> str:
    return day.isoformat() if day else "date not recorded"
