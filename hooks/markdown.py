"""Escaping for text we did not write that ends up in a card.

A card's `detail` is GitHub Flavored Markdown that the EHR renders, and much of what we show in it came
from the EHR or the laboratory (values, units, drug displays, references). Any of it could carry Markdown
or HTML: a `|` that breaks the evidence table, a newline that starts a new block, `<script>`, or
`[x](javascript:...)`. `escape_markdown` makes such text inert; `plain_text` does the same for fields
that are plain text (summary, labels, action descriptions), where only line breaks and invisible
characters matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MAX_CELL_CHARS = 200
ELLIPSIS = "\u2026"

# HTML-significant characters become entities rather than backslash escapes: a renderer that lets raw
# HTML through (or does not understand Markdown at all) still shows them as text. `&` goes first so our
# own entities are not escaped twice.
_HTML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
# Characters with inline Markdown meaning: emphasis, strikethrough, code, link and image brackets (with
# `[` `]` escaped, `(...)` can never become a link target), table cells, the backslash itself, and `:` `@`
# so that GFM's extended autolinks (`https://...`, `user@host`) cannot turn EHR text into links.
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]|~:@])")
_WWW_AUTOLINK = re.compile(r"(?i)\b(www)\.")
# Text that would open a block at the start: heading, bullet list or thematic break, ordered list ("3. ").
_BLOCK_START = re.compile(r"^(#|\+|-|\d+[.)](?=\s|$))")
_WHITESPACE_RUN = re.compile(r"\s+")
# Anything any of the above could change; text without it is returned as it is (one scan, not five).
_ANY_SPECIAL = re.compile(r"[&<>\\`*_\[\]|~:@]|(?i:www\.)|^(?:#|\+|-|\d+[.)])")


def plain_text(text: object, max_chars: int | None = None) -> str:
    """One line of visible text: control, format and separator characters become spaces.

    Newlines would split a summary or a table row; bidirectional overrides and zero-width characters
    could make a value read differently from what it is.
    """
    raw = str(text)
    # isprintable() is False for every C* and Z* character but the space, so it proves there is nothing
    # to clean but runs of spaces; the per-character scan runs only for the rare text that needs it.
    if raw.isprintable():
        single_line = (_WHITESPACE_RUN.sub(" ", raw) if "  " in raw else raw).strip()
    else:
        cleaned = "".join(" " if _is_invisible(ch) else ch for ch in raw)
        single_line = _WHITESPACE_RUN.sub(" ", cleaned).strip()
    return shorten(single_line, max_chars) if max_chars else single_line


def escape_markdown(text: object, max_chars: int | None = MAX_CELL_CHARS) -> str:
    """Untrusted text as inert Markdown: it renders as the same characters and never as markup."""
    escaped = plain_text(text, max_chars)
    if not _ANY_SPECIAL.search(escaped):
        return escaped  # most values, units, dates and references: nothing to escape
    return _escape_specials(escaped)


def _escape_specials(escaped: str) -> str:
    for raw, entity in _HTML_ENTITIES:
        escaped = escaped.replace(raw, entity)
    escaped = _INLINE_SPECIALS.sub(r"\\\1", escaped)
    escaped = _WWW_AUTOLINK.sub(r"\1\\.", escaped)
    return _BLOCK_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], escaped)


def shorten(text: str, max_chars: int) -> str:
    """`text` in at most `max_chars` characters, cut at a word boundary and marked with an ellipsis.

    A cut in the middle of a number could change its meaning ("12.5" becoming "12"), so the cut goes back
    to the last space unless that would throw away more than a third of the room.
    """
    if len(text) <= max_chars:
        return text
    room = text[: max_chars - len(ELLIPSIS)]
    boundary = room.rfind(" ")
    if boundary >= (2 * len(room)) // 3:
        room = room[:boundary]
    return room.rstrip(" ,;:-") + ELLIPSIS


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table; the cells must already be escaped (headers are ours)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
