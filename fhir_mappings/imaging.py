"""ImagingStudies and imaging DiagnosticReports to imaging facts (modalities, day, body regions)."""

from __future__ import annotations

from typing import Any

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import ImagingFact
from fhir_mappings.fhir_values import as_dict, as_list, codings, first_date, reference_of, status_of, text

NOT_DONE = frozenset({"cancelled", "entered-in-error", "registered"})
REPORT_NOT_DONE = frozenset({"cancelled", "entered-in-error", "registered", "partial"})
DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def build_imaging(
    studies: list[dict[str, Any]], reports: list[dict[str, Any]], codesets: Codesets
) -> list[ImagingFact]:
    facts = [fact for study in studies if (fact := _study(study, codesets)) is not None]
    facts += [fact for report in reports if (fact := _report(report, codesets)) is not None]
    return facts


def _study(study: dict[str, Any], codesets: Codesets) -> ImagingFact | None:
    if study.get("resourceType") != "ImagingStudy" or status_of(study) in NOT_DONE:
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
    )


def _modality_codings(study: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = codings({"coding": as_list(study.get("modality"))})
    for series in as_list(study.get("series")):
        pairs += codings({"coding": [as_dict(series).get("modality")]})
    return pairs


def _report(report: dict[str, Any], codesets: Codesets) -> ImagingFact | None:
    if report.get("resourceType") != "DiagnosticReport" or status_of(report) in REPORT_NOT_DONE:
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
