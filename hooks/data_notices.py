"""Cards about the data rather than the patient: what could not be had, what could not be used.

They carry topic codes outside the rule catalog (DATA-UNAVAILABLE, DATA-QUALITY) so analytics can tell
them apart. They exist because a silent gap is unsafe: a clinician must know when a rule was not run, or
a result was ignored, instead of reading the absence of a card as reassurance.
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir_mappings.facts import Evidence, UnusableResult
from hooks.findings import Finding

DATA_UNAVAILABLE = "DATA-UNAVAILABLE"
DATA_QUALITY = "DATA-QUALITY"
_MAX_LISTED_ISSUES = 20


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
    listed = list(issues)
    evidence = tuple(
        Evidence(issue.analyte, issue.reported, None, issue.reference, issue.reason)
        for issue in listed[:_MAX_LISTED_ISSUES]
    )
    return Finding(
        rule_id=DATA_QUALITY,
        indicator="info",
        values={"count": str(len(listed))},
        evidence=evidence,
    )
