"""Imaging questions the bone-imaging rules share (catalog section 2, "Bone imaging").

A bone scan is NM; PT (PET-CT) counts as whole-body bone imaging too. Any of NM, PT, MR, CT, CR or DX is
"bone imaging" for the question "has the skeleton been looked at since this feature appeared".
"""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import ClinicalFacts, Evidence, ImagingFact

BONE_IMAGING_MODALITIES = frozenset({"NM", "PT", "MR", "CT", "CR", "DX"})
WHOLE_BODY_BONE_MODALITIES = frozenset({"NM", "PT"})


def _newest_first(studies: list[ImagingFact]) -> tuple[ImagingFact, ...]:
    return tuple(sorted(studies, key=lambda s: s.day or date.min, reverse=True))


def bone_imaging(facts: ClinicalFacts) -> tuple[ImagingFact, ...]:
    """Every study of a bone-imaging modality, newest first."""
    return _newest_first([i for i in facts.imaging if i.modalities & BONE_IMAGING_MODALITIES])


def whole_body_bone_scans(facts: ClinicalFacts) -> tuple[ImagingFact, ...]:
    """Bone scans (NM) and PET-CT (PT) with a date, newest first."""
    return _newest_first([i for i in facts.imaging if i.modalities & WHOLE_BODY_BONE_MODALITIES and i.day])


def imaged_on_or_after(studies: tuple[ImagingFact, ...], day: date | None) -> tuple[ImagingFact, ...]:
    """Studies dated on or after `day`; with no `day` to compare, every dated study counts."""
    return tuple(s for s in studies if s.day is not None and (day is None or s.day >= day))


def spine_mri_within(facts: ClinicalFacts, days: float) -> ImagingFact | None:
    """The newest MRI of the spine within `days`. An MRI whose body region is not stated is not assumed to
    be of the spine: a card asking for a spine MRI that was done is cheaper than one missing that it was
    not."""
    for study in bone_imaging(facts):
        if "MR" in study.modalities and "spine" in study.regions and study.day is not None:
            if 0 <= (facts.today - study.day).days <= days:
                return study
    return None


def imaging_evidence(label: str, study: ImagingFact) -> Evidence:
    modalities = "/".join(sorted(study.modalities))
    shown = f"{modalities} {study.description}".strip()
    return Evidence(label, shown, study.day, study.reference)
