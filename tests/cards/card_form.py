"""The form every card must have (issue 12): what the demo and scenario tests check on real output.

A card's detail is, in this order:
- at most `MAX_DETAIL_LINES` detail lines: the non-blank Markdown lines before the evidence table (or before
  the source line when the card has no table), each at most `MAX_LINE_CHARS` characters, so that each
  renders in at most two lines of a 1,000 px panel;
- at most one table (the evidence, with missing data and orders offered elsewhere as rows);
- exactly one source line, `**Source:** ...`, last, which does not repeat `card.source.label`.
No raw code or internal word reaches the text, every card carries exactly one SMART link whose `appContext`
names its rule and its uuid, and a creatinine clearance in the text is one the table shows.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hooks.cards import SMART_LAUNCH_PATH, SOURCE_LABEL

MAX_DETAIL_LINES = 3
MAX_LINE_CHARS = 250
SOURCE_PREFIX = "**Source:**"
FORBIDDEN = {
    "UCUM annotation": re.compile(r"\{[A-Za-z0-9_.\\]+\}"),
    '"every 1 day(s)"': re.compile(r"every 1 days?\b"),
    '"none on record)"': re.compile(r"none on record\)"),
    "catalog jargon": re.compile(r"(?i)\bcatalog"),
    "the full consensus label (card.source carries it)": re.compile(re.escape(SOURCE_LABEL)),
}
IU_DOSE = re.compile(r"\d+(?:[.,]\d+)? ?IU\b")
CRCL_IN_TEXT = re.compile(
    r"\b(?:CrCl|creatinine clearance)(?: now| is| of)? \**(\d+(?:\.\d+)?)\**(?![\d.]*\s*[-\u2013])"
)
CRCL_ROW = re.compile(r"^\| [^|]*[Cc]reatinine clearance[^|]* \| (\d+(?:\.\d+)?) mL/min")


def detail_lines(detail: str) -> list[str]:
    """The detail lines as defined above."""
    lines = []
    for line in detail.splitlines():
        if line.startswith("|") or line.startswith(SOURCE_PREFIX):
            break
        if line.strip():
            lines.append(line)
    return lines


def problems(card: dict[str, Any]) -> list[str]:
    """Every way `card` breaks the form; empty when it keeps it."""
    detail = card["detail"]
    found = []
    lines = detail_lines(detail)
    if len(lines) > MAX_DETAIL_LINES:
        found.append(f"{len(lines)} detail lines")
    found += [f"a detail line of {len(line)} characters" for line in lines if len(line) > MAX_LINE_CHARS]
    found += _shape(detail)
    text = f"{card['summary']}\n{detail}"
    found += [f"{name} in the text" for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    found += [
        "'dose not stated' next to an IU dose"
        for line in detail.splitlines()
        if "dose not stated" in line and IU_DOSE.search(line)
    ]
    found += _smart_link(card)
    found += _crcl_agrees(text)
    return found


def _shape(detail: str) -> list[str]:
    lines = detail.rstrip("\n").splitlines()
    sources = [line for line in lines if line.startswith(SOURCE_PREFIX)]
    found = [] if len(sources) == 1 and lines[-1] == sources[0] else ["not exactly one source line, last"]
    tables = re.findall(r"(?m)^\|---", detail)
    if len(tables) > 1:
        found.append(f"{len(tables)} tables")
    if "\n\n|" in detail and not re.search(r"(?m)^\| What \| Value \| Date \| Record \|$", detail):
        found.append("a table that is not the evidence table")
    return found


def _smart_link(card: dict[str, Any]) -> list[str]:
    smart = [link for link in card.get("links") or [] if link.get("type") == "smart"]
    if len(smart) != 1:
        return [f"{len(smart)} SMART links"]
    link = smart[0]
    context = json.loads(link["appContext"])
    expected = {"rule": card["source"]["topic"]["code"], "card": card["uuid"]}
    found = [] if context == expected else [f"appContext {context} is not {expected}"]
    if not re.match(r"^https?://[^/]+.*" + re.escape(SMART_LAUNCH_PATH) + "$", link["url"]):
        found.append(f"SMART link URL {link['url']}")
    return found


def _crcl_agrees(text: str) -> list[str]:
    """81.1 in the text and 81 in the table is one number rounded twice: the clinician sees two."""
    shown = {float(m.group(1)) for line in text.splitlines() if (m := CRCL_ROW.match(line))}
    if not shown:
        return []
    said = {float(m.group(1)) for m in CRCL_IN_TEXT.finditer(text)}
    return [f"CrCl {value:g} in the text, table shows {sorted(shown)}" for value in said - shown]
