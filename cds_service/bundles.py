"""Reading a searchset Bundle the same way whether the EHR sent it (prefetch) or a FHIR server did.

A Bundle that cannot be read whole (a malformed `entry`) or that reports an error or fatal issue in an
OperationOutcome (`too-costly`, a timeout on the server) is not an empty result: taken as "no Conditions"
it would return no cards, silently. Both paths ask `malformed_bundle` and treat the key as unavailable.
"""

from __future__ import annotations

from typing import Any


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a Bundle's entries, skipping malformed entries instead of failing on them."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def malformed_bundle(bundle: dict[str, Any]) -> str | None:
    """A Bundle whose entries cannot all be read, or whose search reported an error or fatal issue."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return "Bundle.entry is not a list"
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or ("resource" in entry and not isinstance(resource, dict)):
            return "Bundle has a malformed entry"
    return error_outcome([e["resource"] for e in entries if isinstance(e.get("resource"), dict)])


def error_outcome(resources: list[dict[str, Any]]) -> str | None:
    """An OperationOutcome in search results with an error or fatal issue means the search did not
    complete (for example `too-costly`): its other entries, if any, are not the whole answer."""
    for resource in resources:
        if resource.get("resourceType") != "OperationOutcome":
            continue
        issues = resource.get("issue")
        for issue in issues if isinstance(issues, list) else []:
            severity = issue.get("severity") if isinstance(issue, dict) else None
            if severity in ("error", "fatal"):
                code = issue.get("code")
                return f"search returned an OperationOutcome ({severity}: {str(code)[:40]})"
    return None
