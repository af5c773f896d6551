"""Operations, seen as a health IT team sees them: a real Prometheus server (Debian's package) scrapes the
production server (gunicorn, two workers, JWT on), and the metrics add up to the calls made; every call
leaves one JSON log line with its service, status, duration, rule IDs and request id, and no log line
carries a token or patient data.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.scenarios.scenario_files import hook_request, load_scenarios, rule_ids

pytestmark = [pytest.mark.xdist_group("operations")]
ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://ehr.operations-test.example"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SCENARIOS = [s for s in load_scenarios() if s.hook == "patient-view" and s.name.startswith(("pair_", "pv_"))][
    :4
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            with _NO_PROXY.open(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class Service:
    def __init__(self, port: int, key: ec.EllipticCurvePrivateKey, log_path: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.key = key
        self.log_path = log_path

    def token(self, path: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "ehr", "aud": self.base + path, "iat": now, "exp": now + 120}
        payload.update(jti=str(uuid.uuid4()), **claims)
        return jwt.encode(payload, self.key, algorithm="ES384", headers={"kid": "ops-1"})

    def post(self, path: str, body: Any, token: str | None, headers: dict[str, str] | None = None):
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - our own server on loopback
            self.base + path, data=json.dumps(body).encode(), headers=all_headers, method="POST"
        )
        try:
            with _NO_PROXY.open(request, timeout=30) as response:
                return response.status, json.load(response), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc), dict(exc.headers)

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log_path.read_text(encoding="utf-8").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("operations")
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": "ops-1", "use": "sig"}
    (tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BONEMET_", "PROMETHEUS_"))}
    env.update(
        BONEMET_AUTH="jwt",
        BONEMET_TRUSTED_ISSUERS=json.dumps([{"iss": ISSUER, "jwks_file": str(tmp / "jwks.json")}]),
        BONEMET_DATABASE_URL=f"sqlite:///{tmp / 'ops.sqlite3'}",
        BONEMET_CARD_LOG_DELAY_MS="5",
    )
    log_path = tmp / "service.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(f"http://127.0.0.1:{port}/healthz")
            yield Service(port, key, log_path)
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def calls(service: Service) -> dict[str, Any]:
    """The calls a health IT team would see in a quiet hour: cards, refusals, a bad body."""
    made: dict[str, Any] = {"statuses": Counter(), "cards": Counter(), "request_ids": []}
    for scenario in SCENARIOS:
        path = f"/cds-services/{scenario.service_id}"
        request_id = f"ehr-trace-{uuid.uuid4().hex[:8]}"
        status, body, headers = service.post(
            path, hook_request(scenario), service.token(path), {"X-Request-ID": request_id}
        )
        assert status == 200 and headers["X-Request-ID"] == request_id
        made["statuses"][200] += 1
        made["cards"].update(rule_ids(body["cards"]))
        made["request_ids"].append(request_id)
    path = "/cds-services/bonemet-patient-view"
    body = hook_request(SCENARIOS[0])
    expired = service.token(path, iat=int(time.time()) - 600, exp=int(time.time()) - 300)
    for token, reason in (
        (expired, "token expired"),
        (expired, "token expired"),
        (None, "missing bearer token"),
    ):
        status, answer, _ = service.post(path, body, token)
        assert (status, answer["message"]) == (401, reason)
        made["statuses"][401] += 1
    status, _, _ = service.post(path, {"hook": "patient-view"}, service.token(path))
    assert status == 400
    made["statuses"][400] += 1
    made["patient_ids"] = [s.patient["id"] for s in SCENARIOS]
    return made


@pytest.fixture(scope="module")
def prometheus(service: Service, calls: dict[str, Any], tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed (Debian package; scripts/ensure-system-packages.sh)")
    tmp = tmp_path_factory.mktemp("prometheus")
    target = service.base.removeprefix("http://")
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: bonemet, static_configs: [{{targets: ['{target}']}}]}}]\n"
    )
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - the Debian package's binary
        [
            binary,
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/-/ready")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def query(prometheus: str, promql: str, until: Any = None, within_s: float = 60) -> dict[str, float]:
    """Instant query; `until(result)` is polled until true (the scrape runs every second)."""
    deadline = time.monotonic() + within_s
    url = f"{prometheus}/api/v1/query?query={urllib.parse.quote(promql)}"
    while True:
        with _NO_PROXY.open(url, timeout=10) as response:
            data = json.load(response)["data"]["result"]
        result = {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in data}
        if until is None or until(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def by(result: dict[str, float], label: str) -> dict[str, float]:
    return {json.loads(k)[label]: v for k, v in result.items()}


def test_prometheus_scrapes_every_worker_and_the_counts_add_up(prometheus, calls) -> None:
    made = sum(calls["statuses"].values())
    total = query(prometheus, "sum(bonemet_hook_calls_total)", lambda r: sum(r.values()) >= made)
    assert sum(total.values()) == made
    statuses = by(query(prometheus, "sum by (status) (bonemet_hook_calls_total)"), "status")
    assert statuses == {str(code): float(n) for code, n in calls["statuses"].items()}
    cards = by(query(prometheus, "sum by (rule_id) (bonemet_cards_total)"), "rule_id")
    assert cards == {rule: float(n) for rule, n in calls["cards"].items()}
    refusals = by(query(prometheus, "sum by (reason) (bonemet_jwt_refusals_total)"), "reason")
    assert refusals == {"token expired": 2.0, "missing bearer token": 1.0}
    latency = query(prometheus, "sum(bonemet_hook_call_seconds_count)")
    assert sum(latency.values()) == made
    queued = query(prometheus, "sum(bonemet_card_log_queued_rows)", lambda r: sum(r.values()) == 0)
    assert sum(queued.values()) == 0  # every card record was written
    assert sum(query(prometheus, "sum(bonemet_card_log_dropped_rows_total)").values()) == 0


def test_one_json_log_line_per_call_and_nothing_secret_in_any(service: Service, calls) -> None:
    lines = service.log_lines()
    call_lines = [line for line in lines if line.get("event") in ("hook-call", "feedback-call")]
    assert Counter(line["status"] for line in call_lines) == calls["statuses"]
    traced = {line["request_id"]: line for line in call_lines if line["status"] == 200}
    assert set(calls["request_ids"]) <= set(traced)
    for line in traced.values():
        assert line["service"] == "bonemet-patient-view" and line["duration_ms"] >= 0
    assert Counter(rule for line in traced.values() for rule in line["rule_ids"]) == calls["cards"]
    everything = service.log_path.read_text(encoding="utf-8")
    assert "eyJ" not in everything  # no JWT, whole or in part
    assert not [pid for pid in calls["patient_ids"] if pid in everything]


def test_the_command_line_chooses_the_metrics_store_before_prometheus_client_is_imported() -> None:
    """prometheus_client picks its value store when first imported: a module-level import on the way to
    `serve` would make each worker count alone (a scrape would see one worker's calls)."""
    probe = "import sys, cds_service.cli; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
