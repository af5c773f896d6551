"""Cards about the data rather than the patient: what could not be had, used, or read.

They carry topic codes outside the rule catalog (DATA-UNAVAILABLE, DATA-QUALITY, UNMAPPED-CODES) so
analytics can tell them apart. They exist because a silent gap is unsafe: a clinician must know when a rule
was not run, a result was ignored, or a diagnosis or order was written in a way no rule could read, instead
of reading the absence of a card as reassurance. They are data notices, not catalog rules: the runner adds
them whatever the service's rule list, and even when the lung-cancer gate stops every clinical rule
(RULES.md 7.1.4, issue 11), because that is exactly when a missing card is most misleading.
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir_mappings.build_facts import FOREIGN
from fhir_mappings.facts import ClinicalFacts, Evidence, UnmappedEntry, UnusableResult
from fhir_mappings.lab_series import issues_found_while_reading
from hooks.findings import Finding

DATA_UNAVAILABLE = "DATA-UNAVAILABLE"
DATA_QUALITY = "DATA-QUALITY"
UNMAPPED_CODES = "UNMAPPED-CODES"
DATA_CARD_IDS = (DATA_UNAVAILABLE, DATA_QUALITY, UNMAPPED_CODES)
_MAX_LISTED_ISSUES = 20
CONCEPT_NAMES = {
    "lung_cancer": "lung cancer",
    "bone_metastasis": "bone metastasis",
    "bma": "bone-modifying agent",
    "ici": "immune checkpoint inhibitor",
}
GATE_RESOURCE_TYPES = ("Condition/", "MedicationRequest/")


def data_unavailable_finding(skipped_rules: Iterable[str], unavailable_types: Iterable[str]) -> Finding:
    rules = sorted(skipped_rules)
    types = sorted(unavailable_types)
    return Finding(
        rule_id=DATA_UNAVAILABLE,
        indicator="warning",
        values={"rules": ", ".join(rules), "types": ", ".join(types), "count": str(len(rules))},
        missing=tuple(f"{t} resources could not be retrieved from the EHR" for t in types),
    )


def data_quality_finding(issues: Iterable[UnusableResult]) -> Finding:
    """Every unusable result; when some resources belonged to another patient, the card leads with how
    many were dropped (RULES.md 7.4.29)."""
    listed = list(issues)
    foreign = sum(1 for issue in listed if issue.analyte == FOREIGN)
    evidence = tuple(
        Evidence(issue.analyte, issue.reported, None, issue.reference, issue.reason)
        for issue in listed[:_MAX_LISTED_ISSUES]
    )
    return Finding(
        rule_id=DATA_QUALITY,
        indicator="info",
        variant="another-patient" if foreign else "default",
        values={"count": str(len(listed)), "foreign": str(foreign), "other": str(len(listed) - foreign)},
        evidence=evidence,
    )


def unmapped_codes_finding(entries: Iterable[UnmappedEntry], *, gate_closed: bool) -> Finding:
    """RULES.md 7.1.4: the resources named in words only, with the codes they carry, for health IT to map.
    `gate_closed`: no coded lung cancer was found, so the card says no check was run at all."""
    listed = list(entries)
    evidence = tuple(
        Evidence(
            f"Named {CONCEPT_NAMES.get(e.concept, e.concept)} in text", e.text, None, e.reference, e.codes
        )
        for e in listed[:_MAX_LISTED_ISSUES]
    )
    kinds = sorted({CONCEPT_NAMES.get(e.concept, e.concept) for e in listed})
    return Finding(
        rule_id=UNMAPPED_CODES,
        indicator="info",
        variant="no-lung-cancer-code" if gate_closed else "default",
        values={"count": str(len(listed)), "kinds": ", ".join(kinds)},
        evidence=evidence,
    )


def data_findings(
    facts: ClinicalFacts, skipped_rules: Iterable[str] = (), unavailable_types: Iterable[str] = ()
) -> list[Finding]:
    """The data cards of a response in which the rules ran. Call it after the rules: results are read
    lazily, and an older one a rule refused while walking back (a baseline creatinine whose unit
    contradicts its code) is known only then; DATA-QUALITY lists it beside those found while building."""
    skipped = list(skipped_rules)
    found = [data_unavailable_finding(skipped, unavailable_types)] if skipped else []
    issues = _distinct((*facts.data_issues, *issues_found_while_reading(facts.labs)))
    if issues:
        found.append(data_quality_finding(issues))
    if facts.unmapped:
        found.append(unmapped_codes_finding(facts.unmapped, gate_closed=False))
    return found


def _distinct(issues: Iterable[UnusableResult]) -> list[UnusableResult]:
    """Each resource once per reason, in the order found."""
    return list(dict.fromkeys(issues))


def lung_cancer_gate_findings(facts: ClinicalFacts) -> list[Finding]:
    """The data cards of a response in which no coded lung cancer was found: only what could explain the
    silence. Another patient's resources, Conditions or orders that could not be used, and entries that
    name lung cancer (or the rest) in text only may be where the lung cancer was; a lab result with an
    unknown unit cannot, and showing it here would only be noise."""
    issues = [
        issue
        for issue in facts.data_issues
        if issue.analyte == FOREIGN or issue.reference.startswith(GATE_RESOURCE_TYPES)
    ]
    found = [data_quality_finding(issues)] if issues else []
    if facts.unmapped:
        found.append(unmapped_codes_finding(facts.unmapped, gate_closed=True))
    return found


def order_gate_findings(facts: ClinicalFacts) -> list[Finding]:
    """The data cards of an order hook call with no recognised bone-modifying agent (or invasive dental)
    draft: another patient's resources, and a draft named in text only (a BMA ordered under an unmapped
    code would otherwise pass unchecked). The chart's own unmapped entries do not concern this order."""
    foreign = [issue for issue in facts.data_issues if issue.analyte == FOREIGN]
    drafts = [entry for entry in facts.unmapped if entry.is_draft]
    found = [data_quality_finding(foreign)] if foreign else []
    if drafts:
        found.append(unmapped_codes_finding(drafts, gate_closed=False))
    return found
