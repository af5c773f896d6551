"""`python -m cds_service.demo` (make run): FHIR server with the demo patients, the service, a banner
with what to paste into the sandbox, and Ctrl-C stopping both."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cds_service.demo import banner, demo_settings, main
from tests.demo.helpers import PATIENT_IDS

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
ROOT = Path(__file__).resolve().parents[2]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> dict:
    with _NO_PROXY.open(url, timeout=10) as response:
        return json.load(response)


def _read_banner(process: subprocess.Popen[str], deadline: float) -> str:
    lines: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            return "".join(lines)
    raise AssertionError("the demo did not print its banner:\n" + "".join(lines))


def _slow_client_answer(url: str) -> int:
    """Start a request and never finish its headers; the status the service cuts it off with."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        return int(sock.recv(4096).split(b" ")[1])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_serves_the_patients_and_stops_both_servers(tmp_path, stop):
    env = {key: value for key, value in os.environ.items() if not key.startswith("BONEMET_")}
    env["BONEMET_DATABASE_URL"] = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    env["BONEMET_HEADER_TIMEOUT_SECONDS"] = "2"
    process = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "cds_service.demo", "--port", "0", "--fhir-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = _read_banner(process, time.monotonic() + 60)
        service = re.search(r"CDS discovery URL:\s+(\S+)", banner).group(1)
        fhir = re.search(r"FHIR server \(R4\):\s+(\S+)", banner).group(1)
        assert all(patient_id in banner for patient_id in PATIENT_IDS)
        assert "authentication is OFF" in banner
        assert re.search(r"FHIR hosts allowed:\s+http://127\.0\.0\.1:\d+\n", banner)
        assert {s["id"] for s in _get(service)["services"]} >= {"bonemet-patient-view"}
        assert _get(fhir + "/Patient/demo-02-za-kidney")["id"] == "demo-02-za-kidney"
        _assert_the_smart_launcher_can_front(fhir)
        assert _slow_client_answer(service) == 408  # the production server, with its read deadlines
        process.send_signal(stop)
        assert process.wait(timeout=20) == 0
        with pytest.raises(OSError):
            _get(fhir + "/metadata")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def _assert_the_smart_launcher_can_front(fhir: str) -> None:
    """What docs/testers.md section 3 needs from `make run`'s FHIR server (tests/fhir_server_mode/
    test_smart_launcher_needs.py has the details): a security element, a clinician to sign in as, and the
    launcher's encounter lookup at the server's root."""
    assert "security" in _get(fhir + "/metadata")["rest"][0]
    practitioners = _get(fhir + "/Practitioner?_count=10&_summary=true&_sort=given")
    assert [e["resource"]["id"] for e in practitioners["entry"]] == ["demo-clinician"]
    root = fhir.removesuffix(urllib.parse.urlsplit(fhir).path)
    encounters = _get(root + "/Encounter/?_count=1&_sort%3Adesc=date&patient=demo-01-new-bm")
    assert encounters["resourceType"] == "Bundle" and encounters["type"] == "searchset"


def test_demo_settings_turn_auth_off_and_allow_only_the_local_fhir_server():
    settings = demo_settings("http://127.0.0.1:8081/fhir/R4", {"BONEMET_DATABASE_URL": "sqlite:///x.db"})
    assert settings.auth_mode == "off"
    assert settings.fhir_allowed_hosts == "http://127.0.0.1:8081"
    assert settings.database_url == "sqlite:///x.db"


def test_demo_settings_keep_a_testers_own_choices():
    env = {
        "BONEMET_AUTH": "jwt",
        "BONEMET_TRUSTED_ISSUERS": "[]",
        "BONEMET_FHIR_ALLOWED_HOSTS": "https://f.org",
    }
    settings = demo_settings("http://127.0.0.1:8081/fhir/R4", env)
    assert settings.auth_mode == "jwt"
    assert settings.fhir_allowed_hosts == "https://f.org,http://127.0.0.1:8081"


def test_the_banner_says_whether_authentication_is_on():
    on = banner("http://127.0.0.1:8080", "http://127.0.0.1:8081/fhir/R4", ["demo-01"], auth_on=True)
    off = banner("http://127.0.0.1:8080", "http://127.0.0.1:8081/fhir/R4", ["demo-01"], auth_on=False)
    assert "authentication is ON" in on and "OFF" not in on
    assert "authentication is OFF" in off and "authentication is ON" not in off


def test_the_banner_names_the_fhir_hosts_the_service_may_read_and_how_to_add_one():
    allowed = "http://127.0.0.1:9090,http://127.0.0.1:8081"
    fhir = "http://127.0.0.1:8081/fhir/R4"
    text = banner("http://127.0.0.1:8080", fhir, [], auth_on=False, allowed=allowed)
    assert f"FHIR hosts allowed:  {allowed}" in text
    assert "BONEMET_FHIR_ALLOWED_HOSTS=" in text


def test_a_taken_port_is_named_with_how_to_choose_others(capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        assert main(["--port", "0", "--fhir-port", str(busy)]) == 1
    message = capsys.readouterr().err
    assert f"port {busy} for the FHIR server (FHIR_PORT) is taken" in message
    assert "make run PORT=" in message and "Traceback" not in message
