"""The JSON Schemas of this package as OpenAPI `components/schemas`, and the tool that writes them there.

OpenAPI tools (schemathesis among them) resolve `#/components/schemas/...` but not our files' relative
`$ref`s, so openapi.yaml carries a converted copy: each file becomes one component (HookRequest, ...),
each of its `$defs` another, and every `$ref` is rewritten to point at them. The copy sits between two
marker lines in openapi.yaml; after changing a schema, run

    .venv/bin/python -m cds_service.schemas.openapi_components

tests/schemas checks that the copy matches, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import yaml

from cds_service.schemas import SUFFIX, all_schemas

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
BEGIN_MARKER = "    # BEGIN GENERATED from cds_service/schemas"
END_MARKER = "    # END GENERATED from cds_service/schemas"
COMPONENT_NAMES = {
    "hook_request": "HookRequest",
    "context_patient_view": "PatientViewContext",
    "context_order_select": "OrderSelectContext",
    "context_order_sign": "OrderSignContext",
    "feedback": "FeedbackRequest",
    "cds_response": "CdsResponse",
}


def component_name(schema_id: str) -> str:
    stem = schema_id.rsplit("/", 1)[-1].removesuffix(SUFFIX)
    return COMPONENT_NAMES.get(stem) or "".join(part.capitalize() for part in stem.split("_"))


def components() -> dict[str, Any]:
    """Every schema file and every `$defs` entry as a named component; a name used twice must agree."""
    result: dict[str, Any] = {}
    for schema_id, schema in all_schemas().items():
        body = copy.deepcopy(schema)
        definitions = body.pop("$defs", {})
        for key in ("$schema", "$id"):
            body.pop(key, None)
        named = {component_name(schema_id): body, **definitions}
        for name, subschema in named.items():
            converted = _rewrite_refs(subschema, schema_id)
            if name in result and result[name] != converted:
                raise ValueError(f"component {name} is defined differently in two schema files")
            result[name] = converted
    return result


def _rewrite_refs(node: Any, base_id: str) -> Any:
    if isinstance(node, dict):
        return {
            key: _component_ref(value, base_id) if key == "$ref" else _rewrite_refs(value, base_id)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(value, base_id) for value in node]
    return node


def _component_ref(ref: str, base_id: str) -> str:
    document, fragment = urldefrag(urljoin(base_id, ref))
    if fragment.startswith("/$defs/"):
        return "#/components/schemas/" + fragment.removeprefix("/$defs/")
    return f"#/components/schemas/{component_name(document)}{fragment}"


def generated_block() -> str:
    """The YAML text between the markers, indented to sit under `components: schemas:`."""
    text = yaml.safe_dump(components(), sort_keys=True, allow_unicode=True, width=100)
    return "\n".join(("    " + line) if line else line for line in text.splitlines())


def write(path: Path = OPENAPI_PATH) -> None:
    text = path.read_text(encoding="utf-8")
    head, begin, rest = text.partition(BEGIN_MARKER + "\n")
    _, end, tail = rest.partition(END_MARKER)
    if not begin or not end:
        raise SystemExit(f"{path}: GENERATED marker lines missing; restore them under components/schemas")
    path.write_text(head + begin + generated_block() + "\n" + end + tail, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else OPENAPI_PATH)
