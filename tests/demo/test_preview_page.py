"""The preview page and its per-patient endpoint: cards rendered safely, strict CSP, nothing recorded."""

from __future__ import annotations

from sqlalchemy import text

from cds_service.preview import render_markdown, safe_url


def test_status_page_has_a_strict_csp_and_a_button_per_demo_patient(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    html = response.get_data(as_text=True)
    assert html.count('class="button"') >= 12
    assert "<script" not in html


def test_preview_of_a_patient_shows_its_cards(client):
    html = client.get("/preview/patient-view/demo-02-za-kidney").get_data(as_text=True)
    assert 'data-rule-id="ZA-RENAL-DOSING"' in html
    assert 'data-indicator="warning"' in html
    assert "<table>" in html  # the evidence table rendered from Markdown


def test_unknown_demo_patient_is_404(client):
    assert client.get("/preview/patient-view/not-a-demo").status_code == 404


def test_preview_does_not_record_cards(client, app):
    assert client.get("/preview/patient-view/demo-01-new-bm").status_code == 200
    assert app.extensions["bonemet"].store.flush_cards()  # anything queued by the call is now written
    with app.extensions["bonemet"].store.engine.connect() as connection:
        tables = [
            row[0] for row in connection.execute(text("select name from sqlite_master where type='table'"))
        ]
        counts = [
            connection.execute(text(f'select count(*) from "{t}"')).scalar() for t in tables if "card" in t
        ]
    assert counts and all(count == 0 for count in counts)


def test_markdown_cannot_inject_html_or_script_links():
    html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="y">')
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_markdown_renders_the_evidence_table():
    html = render_markdown("| What | Value |\n|---|---|\n| Calcium | 7.9 mg/dL |\n")
    assert "<table>" in html and "<td>7.9 mg/dL</td>" in html


def test_only_http_links_are_links():
    assert safe_url("https://doi.org/10.1016/j.jncc.2023.08.004")
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url(None) is None


def test_every_previewed_card_links_to_the_smart_app(client):
    html = client.get("/preview/patient-view/demo-01-new-bm").get_data(as_text=True)
    cards = html.count('<article class="card')
    assert cards == 4
    assert html.count('<li class="link-smart"') == cards
    assert html.count('href="http://localhost/smart/launch"') == cards
    assert 'data-app-context="{&#34;rule&#34;:&#34;BMA-INITIATION&#34;' in html


def test_each_reference_stays_on_one_line_but_a_cell_of_several_wraps_between_them():
    """A calculated value's Record cell names its inputs; the preview wraps it between references (at the
    comma), never at a hyphen inside one."""
    html = render_markdown("| Record |\n|---|\n| calculated from Observation/a-1, Observation/b-2 |\n")
    assert '<td>calculated from <span class="ref">Observation/a-1</span>, ' in html
    assert '<span class="ref">Observation/b-2</span></td>' in html
    assert "ref" not in render_markdown("7.9 mg/dL, 5 IU/mL, 60 mL/min/1.73 m²")
