"""The orders our suggestions may create, as data: `hooks/data/orders.yaml`, plus a site's overrides.

A suggestion the clinician accepts becomes a real order, so every entry is complete (codes, dose with a
UCUM unit, route, timing, instruction) and is checked when the process starts. A site replaces an entry
by key, or adds one, in `<site dir>/orders.yaml`, for example to use its own product codes; the whole
entry is replaced, never mixed field by field, so a site code cannot end up beside our display or dose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).parent / "data" / "orders.yaml"
SITE_FILE_NAME = "orders.yaml"
SECTIONS = ("medications", "services", "categories")
PERIOD_UNITS = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})  # FHIR units-of-time
PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})  # FHIR request-priority


class OrderCatalogError(ValueError):
    """An order catalog file is malformed; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class MedicationOrder:
    key: str
    code: dict[str, str]
    text: str
    dose_value: float
    dose_unit: str
    dose_display_unit: str
    route: dict[str, str]
    timing: dict[str, Any]
    instruction: str
    update_keeps_medication: bool = False
    """An `update` to this entry changes the dose only and keeps the drafted medication: for a drug with
    no standard code (incadronate: no RxNorm, no ATC) the site's own code is the right one to keep."""


@dataclass(frozen=True)
class ServiceOrder:
    key: str
    category: dict[str, str]
    code: dict[str, str]
    text: str
    priority: str | None = None


@dataclass(frozen=True)
class OrderCatalog:
    medications: Mapping[str, MedicationOrder]
    services: Mapping[str, ServiceOrder]

    def entry(self, key: str) -> MedicationOrder | ServiceOrder:
        """The entry an `ActionSpec.order_key` names; an unknown key is a programming error."""
        found = self.medications.get(key) or self.services.get(key)
        if found is None:
            raise LookupError(f"order catalog has no entry '{key}'")
        return found

    def keys(self) -> list[str]:
        return sorted([*self.medications, *self.services])


def load_order_catalog(site_dir: Path | None = None, *, default_path: Path = DEFAULT_PATH) -> OrderCatalog:
    """The shipped catalog with `<site_dir>/orders.yaml` merged over it by key, every entry checked."""
    merged = _read(default_path)
    source = {section: dict.fromkeys(merged[section], str(default_path)) for section in SECTIONS}
    site_path = site_dir / SITE_FILE_NAME if site_dir else None
    if site_path and site_path.exists():
        for section, entries in _read(site_path).items():
            merged[section].update(entries)
            source[section].update(dict.fromkeys(entries, str(site_path)))
    categories = {
        key: _coding(source["categories"][key], f"categories.{key}", raw)
        for key, raw in merged["categories"].items()
    }
    medications = {
        key: _medication(source["medications"][key], key, raw) for key, raw in merged["medications"].items()
    }
    services = {
        key: _service(source["services"][key], key, raw, categories)
        for key, raw in merged["services"].items()
    }
    both = sorted(medications.keys() & services.keys())
    if both:
        raise OrderCatalogError(f"order key(s) {', '.join(both)} are both a medication and a service")
    return OrderCatalog(medications, services)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise OrderCatalogError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise OrderCatalogError(f"{path}: expected a mapping with {', '.join(SECTIONS)}")
    unknown = sorted(str(key) for key in raw.keys() - set(SECTIONS))
    if unknown:
        raise OrderCatalogError(f"{path}: unknown section(s) {', '.join(unknown)}")
    sections: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            raise OrderCatalogError(f"{path}: section '{section}' must be a mapping of entries")
        sections[section] = {str(key): value for key, value in entries.items()}
    return sections


def _medication(source: str, key: str, raw: Any) -> MedicationOrder:
    where = f"medications.{key}"
    entry = _mapping(source, where, raw)
    dose = _mapping(source, f"{where}.dose", entry.get("dose"))
    value = dose.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise OrderCatalogError(f"{source}: field '{where}.dose.value' must be a positive number")
    unit = _text(source, f"{where}.dose.unit", dose.get("unit"))
    return MedicationOrder(
        key=key,
        code=_coding(source, f"{where}.code", entry.get("code")),
        text=_text(source, f"{where}.text", entry.get("text")),
        dose_value=value,
        dose_unit=unit,
        dose_display_unit=_text(source, f"{where}.dose.display_unit", dose.get("display_unit", unit)),
        route=_coding(source, f"{where}.route", entry.get("route")),
        timing=_timing(source, f"{where}.timing", entry.get("timing")),
        instruction=_text(source, f"{where}.instruction", entry.get("instruction")),
        update_keeps_medication=_flag(source, f"{where}.update_keeps_medication", entry),
    )


def _flag(source: str, where: str, entry: dict[str, Any]) -> bool:
    value = entry.get(where.rsplit(".", 1)[-1], False)
    if not isinstance(value, bool):
        raise OrderCatalogError(f"{source}: field '{where}' must be true or false")
    return value


def _service(source: str, key: str, raw: Any, categories: dict[str, dict[str, str]]) -> ServiceOrder:
    where = f"services.{key}"
    entry = _mapping(source, where, raw)
    category = _text(source, f"{where}.category", entry.get("category"))
    if category not in categories:
        raise OrderCatalogError(f"{source}: field '{where}.category' names unknown category '{category}'")
    code = _coding(source, f"{where}.code", entry.get("code"))
    priority = entry.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise OrderCatalogError(
            f"{source}: field '{where}.priority' must be one of {', '.join(sorted(PRIORITIES))}"
        )
    text = _text(source, f"{where}.text", entry.get("text", code["display"]))
    return ServiceOrder(key, categories[category], code, text, priority)


def _timing(source: str, where: str, raw: Any) -> dict[str, Any]:
    timing = _mapping(source, where, raw)
    frequency, period, unit = timing.get("frequency"), timing.get("period"), timing.get("periodUnit")
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise OrderCatalogError(f"{source}: field '{where}.frequency' must be a whole number of at least 1")
    if isinstance(period, bool) or not isinstance(period, int | float) or period <= 0:
        raise OrderCatalogError(f"{source}: field '{where}.period' must be a positive number")
    if unit not in PERIOD_UNITS:
        raise OrderCatalogError(
            f"{source}: field '{where}.periodUnit' must be one of {', '.join(sorted(PERIOD_UNITS))}"
        )
    return {"frequency": frequency, "period": period, "periodUnit": unit}


def _coding(source: str, where: str, raw: Any) -> dict[str, str]:
    coding = _mapping(source, where, raw)
    return {
        field: _text(source, f"{where}.{field}", coding.get(field)) for field in ("system", "code", "display")
    }


def _mapping(source: str, where: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise OrderCatalogError(f"{source}: field '{where}' is missing or not a mapping")
    return raw


def _text(source: str, where: str, value: Any) -> str:
    """Codes must be quoted in YAML: an unquoted code would load as a number and could lose leading zeros."""
    if not isinstance(value, str) or not value.strip():
        raise OrderCatalogError(f"{source}: field '{where}' is missing, empty or not quoted text")
    return value
