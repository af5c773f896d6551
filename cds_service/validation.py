"""Checks request bodies against the JSON Schemas in `cds_service/schemas/`, before anything reads them.

The validators are compiled once, at import, with jsonschema-rs (format checks on: a `hookInstance` that
is not a UUID is refused). A refusal is a `RequestError` naming the failing field as a JSON pointer
(`/context/patientId`) and the reason in a few words. The message is built here from the error's kind,
never from jsonschema-rs's own text, because that text quotes the offending instance: one bad field in a
large body could otherwise produce a message of hundreds of thousands of characters, and it would echo
patient data back. jsonschema-rs is also told to mask instance values, which keeps the error cheap to build.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from cds_service.errors import RequestError
from cds_service.log_safety import caller_text
from cds_service.schemas import BASE_URI, all_schemas

MAX_MESSAGE_CHARS = 240
MAX_POINTER_CHARS = 160
MAX_SEGMENT_CHARS = 40
PRUNE_DEPTH = 12  # deeper than any path the schemas constrain (/context/draftOrders/entry/0/resource/id is 6)


def _compile(file_name: str) -> jsonschema_rs.Validator:
    schemas = all_schemas()
    root = schemas[BASE_URI + file_name]
    registry = jsonschema_rs.Registry(list(schemas.items()))
    validator: jsonschema_rs.Validator = jsonschema_rs.Draft202012Validator(
        root, validate_formats=True, registry=registry, mask="[value]"
    )
    return validator


_HOOK_REQUEST = _compile("hook_request.schema.json")
_FEEDBACK = _compile("feedback.schema.json")


def _dependent_triggers() -> dict[str, list[str]]:
    """For each field some `dependentRequired` demands, the fields that demand it.

    jsonschema-rs reports a `dependentRequired` failure as a plain missing field without saying which
    present field required it, so the schemas are read once to name it (fhirAuthorization -> fhirServer).
    """
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for trigger, dependents in (node.get("dependentRequired") or {}).items():
                for dependent in dependents:
                    found.setdefault(dependent, set()).add(trigger)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(list(all_schemas().values()))
    return {dependent: sorted(triggers) for dependent, triggers in found.items()}


_DEPENDENT_TRIGGERS = _dependent_triggers()


def _field_names() -> frozenset[str]:
    """Every field name the schemas define: the pointer segments a log may show as they are."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties") or {})
            names.update(n for n in node.get("required") or () if isinstance(n, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(list(all_schemas().values()))
    return frozenset(names)


_FIELD_NAMES = _field_names()


def validate_hook_request(body: dict[str, Any], hook: str) -> None:
    """Refuse a hook call that names another hook than the service's, or whose body breaks the schema.

    The hook is compared first: a patient-view body sent to an order-sign service is best told "wrong
    hook", not "missing /context/draftOrders".
    """
    named = body.get("hook")
    if isinstance(named, str) and named != hook:
        raise RequestError(f"/hook must be '{hook}' for this service", field="/hook")
    _check(_HOOK_REQUEST, body)


def validate_feedback(body: dict[str, Any]) -> None:
    """Refuse a feedback body that breaks the CDS Hooks 2.0 Feedback structure."""
    _check(_FEEDBACK, body)


def _check(validator: jsonschema_rs.Validator, body: dict[str, Any]) -> None:
    try:
        if validator.is_valid(body):  # the common case, and far cheaper than building an error
            return
        validator.validate(body)
    except jsonschema_rs.ValidationError as error:
        raise _refusal(error) from None
    except (ValueError, TypeError):
        # jsonschema-rs copies the failing part of the body into the error and stops at a nesting depth
        # of about 250, well inside what orjson parses (1024). Report from a copy cut at a depth no schema
        # looks below, which fails at the same place. HTTP bodies never get here (request_body caps their
        # depth at BONEMET_MAX_JSON_DEPTH, at most 128); direct callers of this module can.
        _check_pruned(validator, body)
    raise RequestError("request body is invalid", field="")


def _check_pruned(validator: jsonschema_rs.Validator, body: dict[str, Any]) -> None:
    try:
        validator.validate(_pruned(body, PRUNE_DEPTH))
    except jsonschema_rs.ValidationError as error:
        raise _refusal(error) from None
    except (ValueError, TypeError):
        pass


def _pruned(node: Any, depth: int) -> Any:
    """`node` with every container deeper than `depth` emptied (same JSON type, so `type` checks agree)."""
    if isinstance(node, dict):
        return {k: _pruned(v, depth - 1) for k, v in node.items()} if depth > 0 else {}
    if isinstance(node, list):
        return [_pruned(v, depth - 1) for v in node] if depth > 0 else []
    return node


def _refusal(error: jsonschema_rs.ValidationError) -> RequestError:
    """The 400 for a schema failure. Its pointer can hold JSON keys the caller chose; the log's copy shows
    those as a length and digest (`log_safety.caller_text`), the response keeps them for the caller."""
    message, pointer = describe(error)
    logged = message.replace(pointer, log_pointer(pointer)) if pointer else message
    return RequestError(message, field=pointer, log_message=logged)


def log_pointer(pointer: str) -> str:
    """The pointer with each segment that is neither an array index nor a schema field name hidden."""
    return "/".join(
        part if not part or part.isdigit() or part in _FIELD_NAMES else caller_text(part)
        for part in pointer.split("/")
    )


def describe(error: jsonschema_rs.ValidationError) -> tuple[str, str]:
    """(message, JSON pointer of the failing field), both short and free of instance values."""
    kind: Any = error.kind
    name = kind.name
    path = list(error.instance_path)
    if name == "required":
        missing = pointer_for([*path, kind.property])
        if error.schema_path and error.schema_path[-1] == "dependentRequired":
            triggers = " or ".join(_DEPENDENT_TRIGGERS.get(kind.property, ["another field"]))
            return _cap(f"{missing} is required when {triggers} is present"), missing
        return _cap(f"missing required field {missing}"), missing
    pointer = pointer_for(path)
    return _cap(f"{pointer or 'the body'} {_reason(kind, name)}"), pointer


def _reason(kind: Any, name: str) -> str:
    """What is wrong, in words; values come from the schema (limits, formats, options), never the body."""
    if name == "type":
        return f"must be of type {' or '.join(str(t) for t in kind.types)}"
    if name == "format":
        return f"is not a valid {kind.format}"
    if name == "enum":
        return f"must be one of {', '.join(repr(o) for o in kind.options)}"
    if name == "const":
        return f"must be {kind.expected_value!r}"
    if name == "pattern":
        return f"does not match the pattern {kind.pattern}"
    reasons = {
        "maxLength": "is too long (at most {limit} characters)",
        "minLength": "is too short (at least {limit} characters)",
        "maxItems": "has too many items (at most {limit})",
        "minItems": "has too few items (at least {limit})",
        "maxProperties": "has too many fields (at most {limit})",
        "minProperties": "has too few fields (at least {limit})",
        "minimum": "is below the minimum {limit}",
        "maximum": "is above the maximum {limit}",
    }
    if name in reasons:
        return reasons[name].format(limit=getattr(kind, "limit", "?"))
    if name == "propertyNames":
        return "has an invalid field name"
    return f"is invalid ({name})"


def pointer_for(path: list[str | int]) -> str:
    """RFC 6901 pointer; long keys from the body are shortened so the pointer stays small."""
    segments = []
    for part in path:
        text = str(part).replace("~", "~0").replace("/", "~1")
        if len(text) > MAX_SEGMENT_CHARS:
            text = text[:MAX_SEGMENT_CHARS] + "..."
        segments.append("/" + text)
    pointer = "".join(segments)
    return pointer if len(pointer) <= MAX_POINTER_CHARS else pointer[:MAX_POINTER_CHARS] + "..."


def _cap(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."
