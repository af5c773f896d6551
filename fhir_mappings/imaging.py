"""ImagingStudies and imaging DiagnosticReports to imaging facts (modalities, day, body regions, state).

RULES.md 7.1.6: an ImagingStudy counts as done only when `available`; one only `registered` is booked
(pending). A report counts as done when final, amended, corrected, appended or preliminary (the images
exist; only the reading may change). Body regions come from the series' `bodySite`, the study's
`procedureCode` and the report's `code`, through the `imaging.regions` code sets; `body_regions` reads a
Condition's `bodySite` the same way, so a pain site and an imaging site are compared by the same names.
"""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import EventState, ImagingFact
from fhir_mappings.fhir_values import as_dict, as_list, codings, first_date, reference_of, status_of, text

STUDY_STATES: dict[str | None, EventState] = {"available": "done", "registered": "pending"}
REPORT_DONE = frozenset({"final", "amended", "corrected", "appended", "preliminary"})
DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def build_imaging(
    studies: list[dict[str, Any]], reports: list[dict[str, Any]], codesets: Codesets
) -> list[ImagingFact]:
    facts = [fact for study in studies if (fact := _study(study, codesets)) is not None]
    facts += [fact for report in reports if (fact := _report(report, codesets)) is not None]
    return facts


def _study(study: dict[str, Any], codesets: Codesets) -> ImagingFact | None:
    state = STUDY_STATES.get(status_of(study), "unknown")
    if study.get("resourceType") != "ImagingStudy" or state == "unknown":
        return None
    modalities = {code for system, code in _modality_codings(study) if system == DICOM}
    if not modalities:
        return None
    when = first_date(study, "started")
    series = [as_dict(s) for s in as_list(study.get("series"))]
    region_codes = [pair for s in series for pair in codings({"coding": [s.get("bodySite")]})]
    region_codes += [pair for concept in as_list(study.get("procedureCode")) for pair in codings(concept)]
    return ImagingFact(
        modalities=frozenset(modalities),
        day=when.date() if when else None,
        reference=reference_of(study),
        description=text(study.get("description"), 120),
        regions=_regions(region_codes, codesets),
        state=state,
    )


def _modality_codings(study: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = codings({"coding": as_list(study.get("modality"))})
    for series in as_list(study.get("series")):
        pairs += codings({"coding": [as_dict(series).get("modality")]})
    return pairs


def _report(report: dict[str, Any], codesets: Codesets) -> ImagingFact | None:
    if report.get("resourceType") != "DiagnosticReport" or status_of(report) not in REPORT_DONE:
        return None
    categories = {pair for concept in as_list(report.get("category")) for pair in codings(concept)}
    if not categories & codesets.report_categories:
        return None
    pairs = codings(report.get("code"))
    modality = codesets.report_modalities.find(pairs)
    if modality is None:
        return None
    when = first_date(report, "effectiveDateTime", "effectivePeriod", "issued")
    return ImagingFact(
        frozenset({modality}),
        when.date() if when else None,
        reference_of(report),
        text(as_dict(report.get("code")).get("text"), 120),
        _regions(pairs, codesets),
    )


def _regions(pairs: list[tuple[str, str]], codesets: Codesets) -> frozenset[str]:
    return frozenset(region for pair in pairs if (region := codesets.regions.find([pair])) is not None)


def body_regions(concepts: Any, codesets: Codesets) -> frozenset[str]:
    """The region names a list of CodeableConcepts (a Condition's `bodySite`) maps to."""
    return _regions([pair for concept in as_list(concepts) for pair in codings(concept)], codesets)
