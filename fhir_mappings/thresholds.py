"""Thresholds, windows and doses as data, read once at start-up.

Rules ask for a threshold by name (`thresholds["lab_recency_days"]`) and never write the number. A site
overrides values in `$BONEMET_SITE_DIR/thresholds.yaml`; an unknown key or a non-numeric value is a
configuration error that stops start-up, not a surprise at the bedside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fhir_mappings.errors import ThresholdConfigError

DEFAULTS_PATH = Path(__file__).parent / "data" / "thresholds.yaml"


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    unit: str
    source: str


class Thresholds:
    def __init__(self, entries: dict[str, Threshold]):
        self._entries = entries

    def __getitem__(self, name: str) -> float:
        return self._entries[name].value

    def entry(self, name: str) -> Threshold:
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    @classmethod
    def load(cls, site_dir: Path | None = None) -> Thresholds:
        entries = {name: _parse_default(name, raw) for name, raw in _read_yaml(DEFAULTS_PATH).items()}
        override_path = site_dir / "thresholds.yaml" if site_dir else None
        if override_path and override_path.exists():
            for name, raw in _read_yaml(override_path).items():
                if name not in entries:
                    raise ThresholdConfigError(f"{override_path}: unknown threshold '{name}'")
                value = raw.get("value") if isinstance(raw, dict) else raw
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ThresholdConfigError(
                        f"{override_path}: threshold '{name}' needs a number, got {value!r}"
                    )
                base = entries[name]
                entries[name] = Threshold(
                    name, float(value), base.unit, f"site setting ({override_path.name})"
                )
        return cls(entries)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ThresholdConfigError(f"{path}: expected a mapping of threshold names")
    return data


def _parse_default(name: str, raw: Any) -> Threshold:
    if not isinstance(raw, dict) or not {"value", "unit", "source"} <= raw.keys():
        raise ThresholdConfigError(f"{DEFAULTS_PATH}: '{name}' needs value, unit and source")
    return Threshold(name, float(raw["value"]), str(raw["unit"]), str(raw["source"]))
