"""Reading FHIR datatypes defensively from raw JSON.

Builders read raw dicts (fast) and must survive anything an EHR or an attacker sends: every accessor here
returns None or an empty tuple for a wrong type instead of raising.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

Coding = tuple[str, str]


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def codings(concept: Any) -> list[Coding]:
    """(system, code) pairs of a CodeableConcept; malformed codings are skipped.

    Written without the helper calls: it runs for every resource of a chart (thousands in a heavy one).
    """
    raw = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(raw, list):
        return []
    pairs: list[Coding] = []
    for coding in raw:
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str) and code:
                pairs.append((system, code.strip()))
    return pairs


def all_codings(concepts: Any) -> list[Coding]:
    return [pair for concept in as_list(concepts) for pair in codings(concept)]


def first_code(concept: Any) -> str | None:
    pairs = codings(concept)
    return pairs[0][1] if pairs else None


def display(concept: Any, fallback: str) -> str:
    concept = as_dict(concept)
    if isinstance(concept.get("text"), str):
        return text(concept["text"], 120)
    for coding in as_list(concept.get("coding")):
        if isinstance(as_dict(coding).get("display"), str):
            return text(coding["display"], 120)
    return fallback


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (dates at midnight UTC); None if unreadable."""
    if not isinstance(value, str):
        return None
    length = len(value)
    try:
        if 10 <= length <= 40:
            parsed = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing Z itself
        elif length == 4:
            parsed = datetime(int(value), 7, 1)
        elif length == 7:
            parsed = datetime(int(value[:4]), int(value[5:7]), 15)
        else:
            return None
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: Any) -> date | None:
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def status_of(resource: dict[str, Any]) -> str | None:
    """A resource's `status` when it is a string. Malformed input (an array or object where FHIR has a code)
    reads as no status, so set membership tests never raise on unhashable values."""
    status = resource.get("status")
    return status if isinstance(status, str) else None


def reference_of(resource: dict[str, Any]) -> str:
    return f"{text(resource.get('resourceType'), 40)}/{text(resource.get('id'), 64)}"


def subject_reference(resource: dict[str, Any]) -> str | None:
    """`subject.reference`, else `patient.reference` (MedicationStatement-style resources)."""
    for key in ("subject", "patient"):
        holder = resource.get(key)
        if isinstance(holder, dict):
            ref = holder.get("reference")
            if isinstance(ref, str):
                return ref
    return None


def first_date(resource: dict[str, Any], *keys: str) -> datetime | None:
    """The first readable date among `keys`; `xPeriod` keys read their start."""
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start")
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed
    return None
