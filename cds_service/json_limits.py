"""One nesting-depth limit for every JSON document the service parses (request bodies, FHIR responses).

orjson parses up to 1024 levels, but nothing after parsing is built for that: orjson encodes at most 255
levels (a draft copied into a suggestion sits ~6 levels deeper than in the request), jsonschema-rs stops
near 250, and recursive readers (`copy.deepcopy`, pydantic) hit Python's recursion limit near 1000. So
depth is checked once, right after parsing, against `BONEMET_MAX_JSON_DEPTH` (default 64; a hook request
is about 15 levels deep), and nothing downstream has to defend against depth again.

The check is a JSON Schema of `max_depth` chained levels (each object's values and array's items must
match the next level; past the last only scalars do), run by jsonschema-rs in Rust: about 1.5 ms for the
benchmark's 1.8 MB heavy chart, where a level-by-level walk in Python took 10-16 ms (the parse itself
takes about 12). It stops descending at the limit, so a 1,000-level document costs no more than a
65-level one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema_rs
import orjson


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
    try:
        return not _depth_validator(max_depth).is_valid(document)
    except (ValueError, TypeError, OverflowError):  # something jsonschema-rs cannot read: refuse it
        return True


@lru_cache(maxsize=8)
def _depth_validator(max_depth: int) -> jsonschema_rs.Validator:
    """`level{i}`: a value at container level i; a container is allowed while i <= max_depth."""
    levels: dict[str, Any] = {
        f"level{i}": {
            "items": {"$ref": f"#/$defs/level{i + 1}"},
            "additionalProperties": {"$ref": f"#/$defs/level{i + 1}"},
        }
        for i in range(1, max_depth + 1)
    }
    levels[f"level{max_depth + 1}"] = {"type": ["string", "number", "boolean", "null"]}
    validator: jsonschema_rs.Validator = jsonschema_rs.Draft202012Validator(
        {"$ref": "#/$defs/level1", "$defs": levels}
    )
    return validator
