"""RADIOTHERAPY-REFERRAL (consensus 6.5, Table 2): "Radiotherapy is one effective localized treatment to
relieve metastatic pain in lung cancer. It could relieve or eliminate pain, prevent pathological fracture
and spinal cord compression"; 6.5.1: "EBRT indications include (1) Bone metastases with bone pain that
required pain relief and functional recovery". Table 2: "PS > 2, short life expectancy: Single
fractionation radiotherapy"; "Non-weight-bearing bone metastases: Single fractionation radiotherapy";
"Weight-bearing bone (spine) metastases: Conventionally fractionated radiotherapy" (30 Gy/10 f, 6.5.1).

Inclusion: patient-view, confirmed bone metastasis, and bone pain: the newest pain score (0-10) at or above
`pain_score_threshold`, or a bone-pain Condition. Exclusion: a radiotherapy consult or a radiotherapy
course dated within `radiotherapy_recent_days`. Decision: info, suggest a radiotherapy consult, and word
the Table 2 regimen guidance: `single-fraction` (ECOG above `ecog_single_fraction_above`, or documented
short life expectancy), `by-site` (ECOG known and not above: single fraction for non-weight-bearing bone,
30 Gy/10 f for spine and weight-bearing bone), `ecog-missing` (the card says ECOG is needed).

Decision beyond the catalog:
- The newest pain score decides, whatever its age (its date is on the card); a bone-pain Condition counts
  on its own, as the catalog's "or" says, even when the newest score is below the threshold.
- A consult or course counts when done, under way or pending (7.1.6: an active, on-hold or draft referral
  is a consult already asked for), and so does one dated in the future (already scheduled); a course under
  way counts whatever its start; an undated one cannot be placed in the window and does not stop the card.
  A cancelled or entered-in-error one never reaches the facts.
- Documented short life expectancy (Table 2's first row) selects the single-fraction wording; it does not
  stop the card, since palliative radiotherapy for pain is meant for these patients too.
- The facts do not say which bone is involved, so with ECOG known and not above the cut-off the card gives
  both site options of Table 2 for the radiation oncologist to apply; it never picks a dose.
- With spinal cord compression (or ESCC 1c or worse) the SPINAL-CORD-COMPRESSION card already suggests an
  *urgent* radiotherapy consultation; this card keeps its regimen guidance but suggests no second, routine
  consult, so the clinician is not offered two referrals of different urgency for one problem.
"""

from __future__ import annotations

from fhir_mappings.facts import CareEvent, ClinicalFacts, Evidence, LabResult
from fhir_mappings.thresholds import Thresholds
from hooks.findings import ActionSpec, Finding, SuggestionSpec
from hooks.rule_registry import rule
from hooks.rules._shared import (
    PATIENT_VIEW,
    asked_or_done,
    condition_evidence,
    confirmed_bone_metastases,
    days_since,
    fmt_number,
    lab_evidence,
    life_expectancy_limitations,
    ongoing_events,
)
from hooks.rules._why import CHART_REVIEW_ONLY, event_text, lab_text, no_confirmed_metastasis
from hooks.rules.spinal_cord_compression import variant_for as spinal_cord_compression_card
from hooks.why_not import not_fired

RULE_ID = "RADIOTHERAPY-REFERRAL"
RADIOTHERAPY_KINDS = ("radiotherapy_consult", "radiotherapy")
ECOG_MISSING = "ECOG performance status (LOINC 89247-1), needed to choose the fractionation (Table 2)"
REFERRAL = SuggestionSpec(
    "Referral to radiation oncology for palliative radiotherapy",
    (
        ActionSpec(
            "create",
            order_key="referral_radiotherapy",
            reason="Painful bone metastasis: radiotherapy for pain relief (consensus 6.5, Table 2)",
        ),
    ),
)


def painful_score(facts: ClinicalFacts, t: Thresholds) -> LabResult | None:
    """The newest pain score when it is at or above the threshold (catalog: >= 4 of 10)."""
    score = facts.latest("pain_score")
    return score if score is not None and score.value >= t["pain_score_threshold"] else None


def bone_pain_evidence(facts: ClinicalFacts, t: Thresholds) -> tuple[Evidence, ...]:
    """What shows bone pain: a pain score at or above the threshold, and any bone-pain Condition."""
    score = painful_score(facts, t)
    scores = (lab_evidence("Pain score (0-10)", score),) if score else ()
    return scores + tuple(condition_evidence("Bone pain", c) for c in facts.conditions_in("bone_pain"))


def is_included(facts: ClinicalFacts, t: Thresholds) -> bool:
    """Patient-view, confirmed bone metastasis, and bone pain (6.5.1 indication 1)."""
    return (
        facts.hook == PATIENT_VIEW
        and bool(confirmed_bone_metastases(facts))
        and bool(bone_pain_evidence(facts, t))
    )


def recent_radiotherapy(facts: ClinicalFacts, t: Thresholds) -> tuple[CareEvent, ...]:
    """Radiotherapy consults or courses asked for or done (7.1.6) within the window (by their last date),
    or scheduled ahead, and any course under way whatever its start."""
    window = t["radiotherapy_recent_days"]
    dated = tuple(
        e
        for kind in RADIOTHERAPY_KINDS
        for e in asked_or_done(facts, kind)
        if (days := days_since(facts, e.last_day)) is not None and days <= window
    )
    under_way = tuple(e for e in ongoing_events(facts, "radiotherapy") if e not in dated)
    return dated + under_way


def is_excluded(facts: ClinicalFacts, t: Thresholds) -> bool:
    """A radiotherapy consult or course in the window: radiotherapy is already being considered."""
    return bool(recent_radiotherapy(facts, t))


def single_fraction_reason(facts: ClinicalFacts, ecog: LabResult | None, t: Thresholds) -> str | None:
    """Table 2, first row: "PS > 2, short life expectancy" favours a single fraction whatever the site."""
    if ecog is not None and ecog.value > t["ecog_single_fraction_above"]:
        cutoff = fmt_number(t["ecog_single_fraction_above"])
        return f"performance status ECOG {fmt_number(ecog.value)}, above {cutoff}"
    if life_expectancy_limitations(facts, t):
        return "documented short life expectancy"
    return None


def regimen_variant(facts: ClinicalFacts, ecog: LabResult | None, t: Thresholds) -> str:
    """Table 2: a single fraction for poor PS or short life expectancy; else the site decides, which needs
    a known ECOG to rule out PS > 2."""
    if single_fraction_reason(facts, ecog, t):
        return "single-fraction"
    return "ecog-missing" if ecog is None else "by-site"


@rule(RULE_ID, consensus_section="6.5, Table 2", needs=("Observation", "Procedure", "ServiceRequest"))
def radiotherapy_referral(facts: ClinicalFacts, t: Thresholds) -> Finding | None:
    """RADIOTHERAPY-REFERRAL (consensus 6.5, Table 2): radiotherapy consult for painful bone metastasis."""
    if not is_included(facts, t) or is_excluded(facts, t):
        return not_fired(lambda: _why_not(facts, t))
    ecog = facts.latest("ecog")
    evidence = (
        *(condition_evidence("Confirmed bone metastasis", c) for c in confirmed_bone_metastases(facts)),
        *bone_pain_evidence(facts, t),
        *((lab_evidence("ECOG performance status", ecog),) if ecog else ()),
        *life_expectancy_limitations(facts, t),
    )
    return Finding(
        rule_id=RULE_ID,
        indicator="info",
        variant=regimen_variant(facts, ecog, t),
        values=_values(facts, t, ecog),
        evidence=evidence,
        missing=_missing(facts, ecog),
        suggestions=() if spinal_cord_compression_card(facts, t) else (REFERRAL,),
        selection_behavior="any",
        outside_sources=_outside_sources(t),
    )


def _values(facts: ClinicalFacts, t: Thresholds, ecog: LabResult | None) -> dict[str, str]:
    score = painful_score(facts, t)
    return {
        "pain": f"pain {fmt_number(score.value)}/10" if score else "bone pain on record",
        "ecog": fmt_number(ecog.value) if ecog else "not recorded",
        "single_fraction_reason": single_fraction_reason(facts, ecog, t) or "none",
        "ecog_cutoff": fmt_number(t["ecog_single_fraction_above"]),
        "pain_threshold": fmt_number(t["pain_score_threshold"]),
        "window_days": fmt_number(t["radiotherapy_recent_days"]),
    }


def _missing(facts: ClinicalFacts, ecog: LabResult | None) -> tuple[str, ...]:
    if ecog is not None:
        return ()
    unusable = tuple(f"ECOG result not usable: {i.reason} ({i.reference})" for i in facts.issues_for("ecog"))
    return (ECOG_MISSING, *unusable)


OUTSIDE_NUMBERS = {
    "pain_score_threshold": "bone pain from a pain score of {} of 10",
    "radiotherapy_recent_days": "radiotherapy consult or course within {} days",
}
"""The consensus gives neither number; the card names where each came from (catalog default or site)."""


def _outside_sources(t: Thresholds) -> tuple[str, ...]:
    return tuple(
        f"{label.format(fmt_number(t[name]))}: {t.entry(name).source}"
        for name, label in OUTSIDE_NUMBERS.items()
    )


def _why_not(facts: ClinicalFacts, t: Thresholds) -> str:
    if facts.hook != PATIENT_VIEW:
        return CHART_REVIEW_ONLY
    if not confirmed_bone_metastases(facts):
        return no_confirmed_metastasis(facts)
    if not bone_pain_evidence(facts, t):
        score = facts.latest("pain_score")
        threshold = fmt_number(t["pain_score_threshold"])
        if score is None:
            return "No bone pain on record: no pain score and no bone-pain diagnosis"
        return f"No bone pain: newest pain score {lab_text(score)}, below {threshold}; no bone-pain diagnosis"
    window = fmt_number(t["radiotherapy_recent_days"])
    found = recent_radiotherapy(facts, t)[0]
    return f"Radiotherapy already considered within {window} days: {event_text(found)}"
