"""Code sets loaded once at start-up, turned into lookups the fact builders use per resource.

A lookup answers "what does this CodeableConcept mean to the rules" with plain dict access, so the
thousands of Observations of a heavy chart are classified without parsing them into models first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fhir_mappings.errors import CodesetConfigError

DEFAULTS_PATH = Path(__file__).parent / "data" / "codesets.yaml"
Coding = tuple[str, str]
SECTIONS = ("conditions", "observations", "coded_observations", "medications", "care_events")


@dataclass
class _Lookup:
    """Exact codes and prefixes mapped to a name; ICD systems compared dot-free and upper case."""

    icd_systems: frozenset[str]
    exact: dict[Coding, str] = field(default_factory=dict)
    prefixes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, system: str, name: str, code: str | None, prefix: str | None) -> None:
        if code is not None:
            self.exact[(system, self._norm(system, code))] = name
        if prefix is not None:
            self.prefixes.setdefault(system, []).append((self._norm(system, prefix), name))

    def find(self, codings: Iterable[Coding]) -> str | None:
        """The name of the first coding that matches, exactly or by prefix, in the order given.

        The raw pair is tried first: it is the normalised one for every non-ICD system and for ICD codes
        sent without dots, so the common case is one dict lookup (a heavy chart asks thousands of times).
        """
        for pair in codings:
            name = self._find_pair(pair)
            if name is not None:
                return name
        return None

    def find_concept(self, concept: Any) -> str | None:
        """`find(codings(concept))` without building the pairs: the Observations of a heavy chart are
        classified by this (thousands per call), and most are matched by their first coding."""
        raw = concept.get("coding") if isinstance(concept, dict) else None
        if not isinstance(raw, list):
            return None
        for coding in raw:
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and isinstance(code, str) and code:
                    name = self._find_pair((system, code.strip()))
                    if name is not None:
                        return name
        return None

    def _find_pair(self, pair: Coding) -> str | None:
        name = self.exact.get(pair)
        return name if name is not None else self._find_normalised(pair)

    def _find_normalised(self, pair: Coding) -> str | None:
        """An ICD code written with dots or in lower case, or a code under one of the prefixes."""
        system, code = pair
        normalised = self._norm(system, code)
        if normalised != code and (system, normalised) in self.exact:
            return self.exact[(system, normalised)]
        for prefix, name in self.prefixes.get(system, ()):
            if normalised.startswith(prefix):
                return name
        return None

    def _norm(self, system: str, code: str) -> str:
        return code.replace(".", "").upper() if system in self.icd_systems else code


@dataclass
class Codesets:
    systems: dict[str, str]
    conditions: _Lookup
    observations: _Lookup
    coded_observations: _Lookup
    medications: _Lookup
    products: _Lookup
    care_events: _Lookup
    report_modalities: _Lookup
    regions: _Lookup
    medication_classes: dict[str, str]
    """Agent (code-set name) -> `bma`, `supplement`, `ici`."""
    report_categories: frozenset[Coding]
    bone_imaging_modalities: frozenset[str]
    ecog_answers: dict[str, int]
    escc_grades: tuple[str, ...]
    raw: dict[str, Any]
    medication_families: dict[str, str] = field(default_factory=dict)
    """BMA agent -> `bisphosphonate` or `denosumab` (RULES.md 7.3.19 reads bisphosphonates as one family)."""
    medication_regimens: dict[str, str] = field(default_factory=dict)
    """Agent -> its only regimen (alendronate, risedronate: `osteoporosis`); absent when dose decides."""
    product_regimens: dict[str, str] = field(default_factory=dict)
    """`agent:product` -> the regimen its product codes mean (Xgeva oncology, Prolia osteoporosis...)."""
    medication_names: dict[str, str] = field(default_factory=dict)
    """Agent -> the drug name cards show when the order has no display of its own."""
    code_names: dict[Coding, str] = field(default_factory=dict)
    """(system, code) -> the drug name of one code (`display` in the code set): an order coded only as
    an ICI or vitamin D code set member is shown by its own drug name, never the set's name."""

    def observation_codings(self) -> list[Coding]:
        """Every Observation code the rules read, for the prefetch query (site codes included)."""
        return sorted([*self.observations.exact, *self.coded_observations.exact])


def load_codesets(site_dir: Path | None = None) -> Codesets:
    data = _read(DEFAULTS_PATH)
    site_file = site_dir / "codesets.yaml" if site_dir else None
    if site_file and site_file.exists():
        _merge(data, _read(site_file), site_file)
    try:
        return _build(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CodesetConfigError(f"code sets are malformed ({type(exc).__name__}: {exc})") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CodesetConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CodesetConfigError(f"{path}: expected a mapping")
    return data


def _merge(base: dict[str, Any], site: dict[str, Any], path: Path) -> None:
    """Site entries add codes to existing sets (or create new analyte/agent sets); nothing is removed."""
    for section, sets in site.items():
        if section not in SECTIONS:
            raise CodesetConfigError(f"{path}: unknown section '{section}' (allowed: {', '.join(SECTIONS)})")
        for name, entry in (sets or {}).items():
            if not isinstance(entry, dict) or not isinstance(entry.get("codes", []), list):
                raise CodesetConfigError(f"{path}: {section}.{name} needs a list of codes")
            target = base[section].setdefault(name, {"source": f"site ({path.name})", "codes": []})
            target["codes"] = list(target.get("codes") or []) + list(entry.get("codes") or [])
            for key in ("class", "family", "regimen", "name"):
                if key in entry:
                    target[key] = entry[key]
            if section == "medications":
                _merge_products(target, entry, path, name)


def _merge_products(target: dict[str, Any], entry: dict[str, Any], path: Path, agent: str) -> None:
    """Site product codes (a local Xgeva or Zometa code) join the product's list; a new product is added."""
    site = entry.get("products")
    if not site:
        return
    if not isinstance(site, dict):
        raise CodesetConfigError(f"{path}: medications.{agent}.products needs a mapping of products")
    products = target.setdefault("products", {})
    for product, spec in site.items():
        codes, regimen = _product_spec(agent, product, spec)
        base = products.get(product)
        base_codes, base_regimen = _product_spec(agent, product, base) if base is not None else ([], None)
        products[product] = {"regimen": regimen or base_regimen, "codes": [*base_codes, *codes]}


def _build(data: dict[str, Any]) -> Codesets:
    systems = data["systems"]
    icd = frozenset(systems[name] for name in data["icd_systems"])

    def lookup(sets: dict[str, Any], key: str = "codes") -> _Lookup:
        table = _Lookup(icd)
        for name, entry in sets.items():
            for item in entry.get(key) or []:
                _add(table, systems, name, item)
        return table

    medications = lookup(data["medications"])
    products = _Lookup(icd)
    product_regimens: dict[str, str] = {}
    for agent, entry in data["medications"].items():
        for product, spec in (entry.get("products") or {}).items():
            codes, regimen = _product_spec(agent, product, spec)
            if regimen is not None:
                product_regimens[f"{agent}:{product}"] = regimen
            for item in codes:  # a product code identifies the agent too (an SBD-only order is still it)
                _add(products, systems, f"{agent}:{product}", item)
                _add(medications, systems, agent, item)
    imaging = data["imaging"]
    report_modalities = _Lookup(icd)
    for modality, codes in imaging["report_codes"].items():
        if modality != "source":
            for item in codes:
                _add(report_modalities, systems, modality, item)
    return Codesets(
        systems=systems,
        conditions=lookup(data["conditions"]),
        observations=lookup(data["observations"]),
        coded_observations=lookup(data["coded_observations"]),
        medications=medications,
        products=products,
        care_events=lookup(data["care_events"]),
        report_modalities=report_modalities,
        regions=lookup(imaging["regions"]),
        medication_classes={name: entry["class"] for name, entry in data["medications"].items()},
        report_categories=frozenset(
            (_system(systems, c["system"]), c["code"]) for c in imaging["report_categories"]
        ),
        bone_imaging_modalities=frozenset(imaging["bone_imaging_modalities"]),
        ecog_answers={str(k): int(v) for k, v in data["ecog_answers"].items()},
        escc_grades=tuple(str(g) for g in data["escc_grades"]),
        raw=data,
        medication_families={n: e["family"] for n, e in data["medications"].items() if e.get("family")},
        medication_regimens={n: e["regimen"] for n, e in data["medications"].items() if e.get("regimen")},
        product_regimens=product_regimens,
        medication_names={
            n: str(e.get("name") or n.replace("_", " ")) for n, e in data["medications"].items()
        },
        code_names=_code_names(systems, data["medications"]),
    )


REGIMENS = frozenset({"oncology", "osteoporosis"})


def _product_spec(agent: str, product: str, spec: Any) -> tuple[list[dict[str, Any]], str | None]:
    """`{regimen: oncology, codes: [...]}`, or a bare list of codes (a product with no regimen of its own)."""
    if isinstance(spec, list):
        return spec, None
    regimen = spec.get("regimen")
    if regimen is not None and regimen not in REGIMENS:
        raise CodesetConfigError(
            f"medications.{agent}.products.{product}: regimen must be one of {sorted(REGIMENS)}"
        )
    return list(spec.get("codes") or []), regimen


def _code_names(systems: dict[str, str], meds: dict[str, Any]) -> dict[Coding, str]:
    names: dict[Coding, str] = {}
    for entry in meds.values():
        items = [*(entry.get("codes") or [])]
        for spec in (entry.get("products") or {}).values():
            items += spec if isinstance(spec, list) else list(spec.get("codes") or [])
        for item in items:
            if item.get("code") is not None and item.get("name"):
                names[(_system(systems, item["system"]), str(item["code"]))] = str(item["name"])
    return names


def _add(table: _Lookup, systems: dict[str, str], name: str, item: dict[str, Any]) -> None:
    code, prefix = item.get("code"), item.get("prefix")
    if code is None and prefix is None:
        raise CodesetConfigError(f"code set '{name}': an entry needs 'code' or 'prefix'")
    table.add(
        _system(systems, item["system"]),
        name,
        None if code is None else str(code),
        None if prefix is None else str(prefix),
    )


def _system(systems: dict[str, str], name: str) -> str:
    """A short system name from the `systems` table, or a full URI a site wrote directly."""
    if name in systems:
        return systems[name]
    if "://" in name or name.startswith(("urn:", "http")):
        return name
    raise CodesetConfigError(f"unknown code system '{name}' (add it under 'systems' or use its URI)")
