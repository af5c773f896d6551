"""Conditions and MedicationRequests that no code set recognises but whose words name lung cancer, bone
metastasis, a bone-modifying agent or an immune checkpoint inhibitor (RULES.md 7.1.4, UNMAPPED-CODES).

A local code the site has not mapped makes a diagnosis or an order invisible to every rule, silently: the
clinician reads "no card" as "nothing to do". These entries make the gap visible to health IT. They are
never read by a clinical rule: free text is not a coded diagnosis or order, and deciding on it would turn a
typo or a negation ("no bone metastasis") into advice. The names are data
(`fhir_mappings/data/unmapped_names.yaml`), English and Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fhir_mappings.codesets import Codesets
from fhir_mappings.facts import UnmappedEntry
from fhir_mappings.fhir_values import as_dict, as_list, first_code, reference_of, status_of

NAMES_PATH = Path(__file__).parent / "data" / "unmapped_names.yaml"
SKIPPED_STATUSES = frozenset({"entered-in-error"})
TEXT_LIMIT = 120
NamePatterns = dict[str, re.Pattern[str]]


@lru_cache(maxsize=4)
def load_name_patterns(path: Path = NAMES_PATH) -> NamePatterns:
    """{"conditions" | "medications": one compiled alternation of every term, a named group per concept};
    a malformed file fails loudly at the first call, never silently matches nothing."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {section: _compile(raw[section]) for section in ("conditions", "medications")}


def _compile(entries: dict[str, list[str]]) -> re.Pattern[str]:
    groups = [
        f"(?P<{concept}>{'|'.join(re.escape(str(term).casefold()) for term in terms)})"
        for concept, terms in entries.items()
    ]
    return re.compile("|".join(groups))


@lru_cache(maxsize=8192)
def _concept_named(pattern: re.Pattern[str], text: str) -> tuple[str, str] | None:
    """(concept, the line that named it) for newline-joined texts, or None. Cached: an EHR resends the same
    chart on every call, and matching a heavy chart's texts was the costliest part of this check."""
    match = pattern.search(text.casefold())
    if match is None or match.lastgroup is None:
        return None
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.start())
    return match.lastgroup, text[line_start : line_end if line_end >= 0 else len(text)]


def unmapped_entries(
    conditions: Iterable[dict[str, Any]],
    requests: Iterable[dict[str, Any]],
    medications: dict[str, dict[str, Any]],
    codesets: Codesets,
    patterns: NamePatterns | None = None,
    *,
    drafts: Iterable[dict[str, Any]] = (),
) -> tuple[UnmappedEntry, ...]:
    """`requests` are the chart's orders, `drafts` the hook call's draft orders; `medications` are the
    chart's (and the draft bundle's) Medication resources by reference."""
    names = patterns or load_name_patterns()
    found = [*_conditions(conditions, codesets, names["conditions"])]
    found += [*_requests(requests, medications, codesets, names["medications"])]
    found += [
        replace(e, is_draft=True) for e in _requests(drafts, medications, codesets, names["medications"])
    ]
    return tuple(found)


def _conditions(
    resources: Iterable[dict[str, Any]], codesets: Codesets, names: re.Pattern[str]
) -> Iterator[UnmappedEntry]:
    for resource in resources:
        if resource.get("resourceType") != "Condition":
            continue
        if first_code(resource.get("verificationStatus")) in SKIPPED_STATUSES:
            continue
        concept = resource.get("code")
        if codesets.conditions.find_concept(concept) is not None:
            continue
        entry = _named(resource, [concept], [], names)
        if entry is not None:
            yield entry


def _requests(
    resources: Iterable[dict[str, Any]],
    medications: dict[str, dict[str, Any]],
    codesets: Codesets,
    names: re.Pattern[str],
) -> Iterator[UnmappedEntry]:
    for resource in resources:
        if resource.get("resourceType") != "MedicationRequest" or status_of(resource) in SKIPPED_STATUSES:
            continue
        concepts = _medication_concepts(resource, medications)
        if any(codesets.medications.find_concept(c) is not None for c in concepts):
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
    resource: dict[str, Any], concepts: list[Any], extra: list[str], names: re.Pattern[str]
) -> UnmappedEntry | None:
    words = _words(concepts) + extra
    if not words:
        return None
    joined = "\n".join(words)
    if joined.count("\n") != len(words) - 1:  # a text with its own line breaks: keep one line per text
        joined = "\n".join(w.replace("\n", " ") for w in words)
    found = _concept_named(names, joined)
    if found is None:
        return None
    concept, text = found
    return UnmappedEntry(concept, reference_of(resource), _codes(concepts), text[:TEXT_LIMIT])


def _words(concepts: list[Any]) -> list[str]:
    """Each concept's text, then its codings' displays (runs for every unrecognised order of a chart)."""
    words: list[str] = []
    for concept in concepts:
        if type(concept) is not dict:
            continue
        text = concept.get("text")
        if type(text) is str:
            words.append(text)
        coding_list = concept.get("coding")
        if type(coding_list) is list:
            for coding in coding_list:
                shown = coding.get("display") if type(coding) is dict else None
                if type(shown) is str:
                    words.append(shown)
    return words


def _codes(concepts: list[Any]) -> str:
    pairs: list[str] = []
    for concept in concepts:
        for coding in as_list(as_dict(concept).get("coding")):
            coding = as_dict(coding)
            system, code = coding.get("system"), coding.get("code")
            if isinstance(code, str):
                pairs.append(f"{system if isinstance(system, str) else 'no system'}|{code}")
    return ", ".join(pairs)[:TEXT_LIMIT] or "no coding"
