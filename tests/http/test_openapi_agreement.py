"""openapi.yaml and the Flask app describe the same endpoints: neither may drift from the other."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

OPENAPI = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text())
IGNORED = {"/static/<path:filename>"}


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in IGNORED or rule.rule.startswith("/static"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    return routes


def _openapi_routes() -> set[tuple[str, str]]:
    routes = set()
    for path, item in OPENAPI["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete", "patch"):
                routes.add((re.sub(r"\{[^}]+\}", lambda m: m.group(0), path), method))
    return routes


def _normalise(routes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(re.sub(r"\{[^}]+\}", "{}", path), method) for path, method in routes}


def test_every_route_is_documented_and_every_documented_route_exists(app):
    assert _normalise(_app_routes(app)) == _normalise(_openapi_routes())
