"""One nesting-depth limit for every JSON document the service parses (request bodies, FHIR responses).

orjson parses up to 1024 levels, but nothing after parsing is built for that: orjson encodes at most 255
levels (a draft copied into a suggestion sits ~6 levels deeper than in the request), jsonschema-rs stops
near 250, and recursive readers (`copy.deepcopy`, pydantic) hit Python's recursion limit near 1000. So
depth is checked once, right after parsing, against `BONEMET_MAX_JSON_DEPTH` (default 64; a hook request
is about 15 levels deep), and nothing downstream has to defend against depth again.

The check walks containers level by level, without recursion: about 5 ms per MB of JSON, against about
7 ms for the parse itself.
"""

from __future__ import annotations

from typing import Any

import orjson

_CONTAINERS = (dict, list)


class TooDeep(ValueError):
    """The document nests more containers than the limit allows."""


def loads_bounded(raw: bytes, max_depth: int) -> Any:
    """`orjson.loads(raw)`, refusing documents deeper than `max_depth` containers with `TooDeep`.

    Raises `orjson.JSONDecodeError` for invalid JSON (including JSON deeper than orjson's own 1024).
    """
    document = orjson.loads(raw)
    if exceeds_depth(document, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return document


def exceeds_depth(document: Any, max_depth: int) -> bool:
    """True when `document` has more than `max_depth` levels of nested objects and arrays.

    `{}` is one level, `{"a": []}` two; scalars are not levels.
    """
    level = [document] if type(document) in _CONTAINERS else []
    for _ in range(max_depth):
        deeper: list[Any] = []
        extend = deeper.extend
        for node in level:
            extend([v for v in (node.values() if type(node) is dict else node) if type(v) in _CONTAINERS])
        if not deeper:
            return False
        level = deeper
    return True
