"""The JSON Schemas (draft 2020-12) of what a CDS Client sends us, shipped as package data.

They are the one source of truth for request shapes: `cds_service/validation.py` compiles them and
`openapi.yaml` carries a copy of them under `components/schemas` (kept in step by
`python -m cds_service.schemas.openapi_components`, checked by tests/schemas). Files refer to each other
by relative `$ref` (e.g. `hook_request.schema.json#/$defs/FhirId`), resolved against `BASE_URI`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent
BASE_URI = "https://bonemet-cds.org/schemas/"
SUFFIX = ".schema.json"


def schema_files() -> list[str]:
    """File names of every schema in this package, sorted, e.g. `hook_request.schema.json`."""
    return sorted(path.name for path in SCHEMA_DIR.glob(f"*{SUFFIX}"))


@cache
def _load(file_name: str) -> str:
    return (SCHEMA_DIR / file_name).read_text(encoding="utf-8")


def load_schema(file_name: str) -> dict[str, Any]:
    """A fresh copy of one schema, so a caller that edits it cannot change anyone else's."""
    schema: dict[str, Any] = json.loads(_load(file_name))
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema keyed by its `$id`, or by BASE_URI + its file name when it declares none."""
    result = {}
    for name in schema_files():
        schema = load_schema(name)
        result[schema.get("$id") or BASE_URI + name] = schema
    return result
