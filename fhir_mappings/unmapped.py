"""Conditions and MedicationRequests that no code set recognises but whose words name lung cancer, bone
metastasis, a bone-modifying agent or an immune checkpoint inhibitor (RULES.md 7.1.4, UNMAPPED-CODES).

A local code the site has not mapped makes a diagnosis or an order invisible to every rule, silently: the
clinician reads "no card" as "nothing to do". These entries make the gap visible to health IT. They are
never read by a clinical rule: free text is not a coded diagnosis or order, and deciding on it would turn a
typo or a negation ("no bone metastasis") into advice. The names are data
(`fhir_mappings/data/unmapped_names.yaml`), English and Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import UnmappedEntry
from fhir_mappings.fhir_values import as_dict, as_list, codings, first_code, reference_of, status_of

NAMES_PATH = Path(__file__).parent / "data" / "unmapped_names.yaml"
SKIPPED_STATUSES = frozenset({"entered-in-error"})
TEXT_LIMIT = 120
NamePatterns = dict[str, dict[str, tuple[str, ...]]]


@lru_cache(maxsize=4)
def load_name_patterns(path: Path = NAMES_PATH) -> NamePatterns:
    """{"conditions" | "medications": {concept: (lower-case terms...)}}; a malformed file fails loudly at
    the first call (start-up builds facts for no chart, so tests catch it), never silently matches nothing."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    patterns: NamePatterns = {}
    for section in ("conditions", "medications"):
        entries = raw[section]
        patterns[section] = {
            concept: tuple(str(term).casefold() for term in terms) for concept, terms in entries.items()
        }
    return patterns


def unmapped_entries(
    conditions: Iterable[dict[str, Any]],
    requests: Iterable[dict[str, Any]],
    medications: dict[str, dict[str, Any]],
    codesets: Codesets,
    patterns: NamePatterns | None = None,
) -> tuple[UnmappedEntry, ...]:
    """`medications` are the chart's (and the draft bundle's) Medication resources by reference."""
    names = patterns or load_name_patterns()
    found = [*_conditions(conditions, codesets, names["conditions"])]
    found += [*_requests(requests, medications, codesets, names["medications"])]
    return tuple(found)


def _conditions(
    resources: Iterable[dict[str, Any]], codesets: Codesets, names: dict[str, tuple[str, ...]]
) -> Iterator[UnmappedEntry]:
    for resource in resources:
        if resource.get("resourceType") != "Condition":
            continue
        if first_code(resource.get("verificationStatus")) in SKIPPED_STATUSES:
            continue
        concept = resource.get("code")
        if codesets.conditions.find(codings(concept)) is not None:
            continue
        entry = _named(resource, [concept], [], names)
        if entry is not None:
            yield entry


def _requests(
    resources: Iterable[dict[str, Any]],
    medications: dict[str, dict[str, Any]],
    codesets: Codesets,
    names: dict[str, tuple[str, ...]],
) -> Iterator[UnmappedEntry]:
    for resource in resources:
        if resource.get("resourceType") != "MedicationRequest" or status_of(resource) in SKIPPED_STATUSES:
            continue
        concepts = _medication_concepts(resource, medications)
        if any(codesets.medications.find(codings(c)) is not None for c in concepts):
            continue
        reference_display = as_dict(resource.get("medicationReference")).get("display")
        extra = [reference_display] if isinstance(reference_display, str) else []
        entry = _named(resource, concepts, extra, names)
        if entry is not None:
            yield entry


def _medication_concepts(request: dict[str, Any], medications: dict[str, dict[str, Any]]) -> list[Any]:
    """The order's own concept, or the referenced Medication's code and ingredient codes (contained, or
    in the chart by `Medication/id`)."""
    if "medicationCodeableConcept" in request:
        return [request["medicationCodeableConcept"]]
    ref = as_dict(request.get("medicationReference")).get("reference")
    medication: dict[str, Any] | None = None
    if isinstance(ref, str) and ref.startswith("#"):
        medication = next(
            (as_dict(c) for c in as_list(request.get("contained")) if as_dict(c).get("id") == ref[1:]), None
        )
    elif isinstance(ref, str):
        medication = medications.get("Medication/" + ref.split("/_history/", 1)[0].rstrip("/").split("/")[-1])
    if not isinstance(medication, dict):
        return []
    ingredients = [as_dict(i).get("itemCodeableConcept") for i in as_list(medication.get("ingredient"))]
    return [medication.get("code"), *ingredients]


def _named(
    resource: dict[str, Any], concepts: list[Any], extra: list[str], names: dict[str, tuple[str, ...]]
) -> UnmappedEntry | None:
    words = [*_words(concepts), *extra]
    for text in words:
        folded = text.casefold()
        for concept, terms in names.items():
            if any(term in folded for term in terms):
                return UnmappedEntry(concept, reference_of(resource), _codes(concepts), text[:TEXT_LIMIT])
    return None


def _words(concepts: list[Any]) -> Iterator[str]:
    for concept in concepts:
        concept = as_dict(concept)
        if isinstance(concept.get("text"), str):
            yield concept["text"]
        for coding in as_list(concept.get("coding")):
            shown = as_dict(coding).get("display")
            if isinstance(shown, str):
                yield shown


def _codes(concepts: list[Any]) -> str:
    pairs: list[str] = []
    for concept in concepts:
        for coding in as_list(as_dict(concept).get("coding")):
            coding = as_dict(coding)
            system, code = coding.get("system"), coding.get("code")
            if isinstance(code, str):
                pairs.append(f"{system if isinstance(system, str) else 'no system'}|{code}")
    return ", ".join(pairs)[:TEXT_LIMIT] or "no coding"
