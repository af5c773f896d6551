"""The production image, built and run on this machine with no Docker daemon (buildah, podman).

The image is built by `scripts/build-image.sh` from a Debian base assembled with debootstrap, installs
every Python package from the hash-pinned `requirements.lock`, and runs as a numeric non-root user. The
test starts it the way an orchestrator would, checks `/healthz`, makes one hook call, and stops it with
SIGTERM: a graceful stop (exit code 0) with no error in the logs.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.scenario_files import hook_request, load_scenarios, rule_ids

pytestmark = [pytest.mark.container, pytest.mark.xdist_group("container")]
ROOT = Path(__file__).resolve().parents[2]
TAG = "localhost/bonemet-cds:test"
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
"""This sandbox runs cgroups v1 in hybrid mode (crun refuses it) and its root lacks CAP_SYS_RESOURCE, so
podman's default rlimits (raised above the host's) are refused: runc, cgroupfs and the host's limits."""
LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def image() -> str:
    for tool in ("podman", "buildah", "debootstrap", "runc"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (scripts/ensure-system-packages.sh installs it)")
    subprocess.run([str(ROOT / "scripts" / "build-image.sh"), TAG], check=True, cwd=ROOT, timeout=900)
    return TAG


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, int]]:
    name, port = f"bonemet-test-{uuid.uuid4().hex[:8]}", _free_port()
    run = [*PODMAN, "run", "--detach", "--name", name, *LIMITS, "--env", "BONEMET_AUTH=off"]
    subprocess.run([*run, "--publish", f"127.0.0.1:{port}:8080", image], check=True, capture_output=True)
    try:
        yield name, port
    finally:
        subprocess.run([*PODMAN, "rm", "--force", name], capture_output=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(port: int, within_s: float = 90) -> dict:
    deadline = time.monotonic() + within_s
    while True:
        try:
            with _NO_PROXY.open(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_image_runs_as_a_numeric_user_with_its_health_check(image: str) -> None:
    inspect = subprocess.run(
        [*PODMAN, "image", "inspect", image], check=True, capture_output=True, text=True
    ).stdout
    described = json.loads(inspect)[0]
    assert described["Config"]["User"] == "10001:10001"
    assert "/healthz" in " ".join(described["Healthcheck"]["Test"])


def test_the_container_serves_a_hook_call_and_stops_gracefully(container: tuple[str, int]) -> None:
    name, port = container
    assert _wait_healthy(port)["status"] == "ok"
    scenario = next(s for s in load_scenarios() if s.name == "pair_new_bone_metastasis_untreated_us")
    request = urllib.request.Request(  # noqa: S310 - our own container on loopback
        f"http://127.0.0.1:{port}/cds-services/{scenario.service_id}",
        data=json.dumps(hook_request(scenario)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with _NO_PROXY.open(request, timeout=30) as response:
        cards = json.load(response)["cards"]
    assert set(rule_ids(cards)) == scenario.expected
    subprocess.run([*PODMAN, "stop", "--time", "30", name], check=True, capture_output=True)
    state = subprocess.run(
        [*PODMAN, "inspect", name, "--format", "{{.State.ExitCode}}"], capture_output=True, text=True
    )
    logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True)
    output = logs.stdout + logs.stderr
    assert state.stdout.strip() == "0", output
    assert "Shutting down: Master" in output
    assert not [line for line in output.splitlines() if "ERROR" in line or "Traceback" in line], output
