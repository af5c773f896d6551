"""The page at `/`: what a person opening the service's URL in a browser sees.

For now a status page (version, auth mode, database kind, services and their discovery URL). Text is
escaped; the page loads no scripts.
"""

from __future__ import annotations

from html import escape
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, current_app, request

preview_bp = Blueprint("preview", __name__)


def _version() -> str:
    try:
        return version("bonemet-cds")
    except PackageNotFoundError:
        return "development"


@preview_bp.get("/")
def status_page() -> Response:
    rt = current_app.extensions["bonemet"]
    rows = "".join(
        f"<tr><td><code>{escape(s.id)}</code></td><td>{escape(s.hook)}</td><td>{escape(s.title)}</td></tr>"
        for s in rt.services.values()
    )
    database = rt.settings.database_url.split(":", 1)[0]
    discovery = escape(request.host_url.rstrip("/") + "/cds-services")
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bonemet-cds</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style>
</head><body>
<h1>bonemet-cds</h1>
<p>CDS Hooks 2.0 service: bone metastasis in lung cancer (2022 Chinese expert consensus).</p>
<ul><li>Status: ok</li><li>Version: {escape(_version())}</li>
<li>Authentication: {escape(rt.settings.auth_mode)}</li><li>Database: {escape(database)}</li>
<li>Discovery: <a href="/cds-services">{discovery}</a></li></ul>
<h2>Services</h2><table><tr><th>id</th><th>hook</th><th>title</th></tr>{rows}</table>
</body></html>"""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
