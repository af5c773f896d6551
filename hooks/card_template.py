"""Card wording, one YAML file per rule in `hooks/card_templates/<RULE-ID>.yaml`, checked at start-up.

A clinician reviews a rule's wording apart from its logic, so the wording is data. Every file is read and
checked when the process starts (rule ID matching the file name, a consensus section, variants each with
a summary and a detail, placeholders that are plain names): a malformed template stops start-up with the
file and field named, instead of failing in front of a clinician. Filling a template with a value the
rule did not supply is a programming error and raises `PlaceholderError`; a blank would hide it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).parent / "card_templates"
SUMMARY_MAX_CHARS = 140
_TOP_LEVEL_KEYS = {"rule_id", "consensus_section", "variants", "title"}
_VARIANT_KEYS = {"summary", "detail", "rationale"}
DETAIL_MAX_LINES = 3
"""A card says what to do and why in its summary and at most this many short lines (issue 12); the long
explanation is the variant's `rationale`, which the SMART app shows."""
_PLACEHOLDER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A value inside a link target or an HTML tag cannot be made safe by escaping (a `javascript:` URL stays
# one), so templates may not put placeholders there. "CrCl < 30 ({crcl})" is prose, not a tag: a tag or
# autolink starts with a letter, `/` or the placeholder right after `<`, and closes with `>` on the line.
_PLACEHOLDER_IN_URL_OR_TAG = re.compile(r"\]\([^)]*\{[A-Za-z_]|<(?=[A-Za-z/{])[^<>\n]*\{[A-Za-z_][^<>\n]*>")


class _Defaulting(dict[str, str]):
    """A value the finding did not supply reads as `{name}`, not an error: the rationale is secondary."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class CardTemplateError(ValueError):
    """A card template file is malformed; the message names the file and the field."""


class PlaceholderError(LookupError):
    """A rule asked for a variant that does not exist, or did not supply a value its wording needs."""


@dataclass(frozen=True)
class CardVariant:
    summary: str
    detail: str
    placeholders: frozenset[str]
    rationale: str = ""
    """The consensus reasoning behind the card, for the SMART app (Markdown, same placeholders)."""


@dataclass(frozen=True)
class CardTemplate:
    rule_id: str
    consensus_section: str
    variants: Mapping[str, CardVariant]
    title: str | None = None

    def variant(self, name: str) -> CardVariant:
        try:
            return self.variants[name]
        except KeyError:
            known = ", ".join(sorted(self.variants))
            raise PlaceholderError(f"{self.rule_id}: no card variant '{name}' (has: {known})") from None

    def fill(
        self, variant_name: str, values: Mapping[str, str], escape: Callable[[str], str]
    ) -> tuple[str, str]:
        """(summary, detail) with `{placeholders}` filled; `escape` is applied to every value in the detail.

        The summary is plain text (the caller cleans and shortens it); the detail is Markdown, so values,
        which may carry EHR text, are escaped there.
        """
        variant = self.variant(variant_name)
        absent = sorted(variant.placeholders - values.keys())
        if absent:
            raise PlaceholderError(
                f"{self.rule_id}: variant '{variant_name}' needs placeholder(s) {', '.join(absent)} "
                "that the finding's values do not supply"
            )
        text_values = {name: str(values[name]) for name in variant.placeholders}
        escaped_values = {name: escape(value) for name, value in text_values.items()}
        return variant.summary.format_map(text_values), variant.detail.format_map(escaped_values)

    def rationale(self, variant_name: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
        """The variant's long explanation, filled like the detail: what the SMART app shows for a card."""
        variant = self.variant(variant_name)
        escaped = {name: escape(str(values[name])) for name in variant.placeholders if name in values}
        return string.Formatter().vformat(variant.rationale, (), _Defaulting(escaped))


def load_card_templates(
    directory: Path | None = None, *, required_rule_ids: Iterable[str] | None = None
) -> dict[str, CardTemplate]:
    """Every `*.yaml` template in `directory` (default `hooks/card_templates/`), keyed by rule ID.

    When `required_rule_ids` is given, a rule without a template is an error too, so a service cannot
    start with a rule it cannot word.
    """
    folder = directory or TEMPLATE_DIR
    templates = {}
    for path in sorted(folder.glob("*.yaml")):
        template = parse_card_template(path)
        templates[template.rule_id] = template
    missing = sorted(set(required_rule_ids or ()) - templates.keys())
    if missing:
        raise CardTemplateError(f"{folder}: no card template for rule(s) {', '.join(missing)}")
    return templates


def parse_card_template(path: Path) -> CardTemplate:
    """One template file, checked field by field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CardTemplateError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise CardTemplateError(f"{path.name}: expected a mapping with rule_id, consensus_section, variants")
    _reject_unknown(path, "", raw, _TOP_LEVEL_KEYS)
    rule_id = _required_text(path, "rule_id", raw.get("rule_id"))
    if rule_id != path.stem:
        raise CardTemplateError(
            f"{path.name}: field 'rule_id' is '{rule_id}' but the file is named {path.stem}"
        )
    section = _required_text(path, "consensus_section", raw.get("consensus_section"))
    title = raw.get("title")
    if title is not None:
        title = _required_text(path, "title", title)
    variants = raw.get("variants")
    if not isinstance(variants, dict) or not variants:
        raise CardTemplateError(f"{path.name}: field 'variants' must be a non-empty mapping")
    parsed = {str(name): _parse_variant(path, str(name), body) for name, body in variants.items()}
    return CardTemplate(rule_id, section, parsed, title)


def _parse_variant(path: Path, name: str, body: Any) -> CardVariant:
    where = f"variants.{name}"
    if not isinstance(body, dict):
        raise CardTemplateError(f"{path.name}: field '{where}' must be a mapping with summary and detail")
    _reject_unknown(path, where + ".", body, _VARIANT_KEYS)
    summary = _required_text(path, f"{where}.summary", body.get("summary"))
    detail = _required_text(path, f"{where}.detail", body.get("detail"))
    if "\n" in summary.strip():
        raise CardTemplateError(f"{path.name}: field '{where}.summary' must be one line")
    summary_names = _placeholders(path, f"{where}.summary", summary)
    fixed_chars = len(string.Formatter().format(summary, **dict.fromkeys(summary_names, "")))
    if fixed_chars > SUMMARY_MAX_CHARS:
        raise CardTemplateError(
            f"{path.name}: field '{where}.summary' has {fixed_chars} characters before any placeholder is "
            f"filled (limit {SUMMARY_MAX_CHARS})"
        )
    if _PLACEHOLDER_IN_URL_OR_TAG.search(detail):
        raise CardTemplateError(
            f"{path.name}: field '{where}.detail' puts a placeholder inside a link target or HTML tag"
        )
    lines = [line for line in detail.splitlines() if line.strip()]
    if len(lines) > DETAIL_MAX_LINES:
        raise CardTemplateError(
            f"{path.name}: field '{where}.detail' has {len(lines)} lines (limit {DETAIL_MAX_LINES}); "
            "move the explanation to 'rationale'"
        )
    rationale = body.get("rationale", "")
    if rationale:
        rationale = _required_text(path, f"{where}.rationale", rationale)
    names = summary_names | _placeholders(path, f"{where}.detail", detail)
    names |= _placeholders(path, f"{where}.rationale", rationale)
    return CardVariant(summary.strip(), detail.rstrip() + "\n", frozenset(names), rationale.strip())


def _placeholders(path: Path, where: str, text: str) -> set[str]:
    """Names used as `{name}`; positional, indexed or formatted fields are refused (values are strings)."""
    try:
        fields = [
            (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None
        ]
    except ValueError as exc:
        raise CardTemplateError(f"{path.name}: field '{where}' has a broken placeholder ({exc})") from exc
    for name, spec, conversion in fields:
        if not _PLACEHOLDER_NAME.match(name) or spec or conversion:
            raise CardTemplateError(
                f"{path.name}: field '{where}' has placeholder '{{{name}}}'; use a plain name "
                "such as {dose} (write a literal brace as {{ or }})"
            )
    return {name for name, _, _ in fields}


def _required_text(path: Path, field: str, value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and field == "consensus_section":
        raise CardTemplateError(
            f"{path.name}: field '{field}' must be quoted text (\"6.3.3\"), got {value!r}"
        )
    if not isinstance(value, str) or not value.strip():
        raise CardTemplateError(f"{path.name}: field '{field}' is missing or empty")
    return value


def _reject_unknown(path: Path, prefix: str, raw: dict[str, Any], allowed: set[str]) -> None:
    """A misspelt key (`sumary`) would otherwise be ignored and its wording silently lost."""
    unknown = sorted(str(key) for key in raw.keys() - allowed)
    if unknown:
        raise CardTemplateError(f"{path.name}: unknown field(s) {', '.join(prefix + key for key in unknown)}")
