"""The lock files pin what pyproject.toml pins: a dependency bumped in one and not the other would make the
image, `make run` and `make test` install something nobody chose (run `make lock` after a change)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(extras: tuple[str, ...]) -> dict[str, str]:
    declared = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        declared += PYPROJECT["project"]["optional-dependencies"][extra]
    pins = {}
    for requirement in declared:
        match = PIN.match(requirement)
        assert match, f"{requirement!r} is not pinned exactly"
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def locked(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if (match := PIN.match(line)) is not None:
            entries[canonical(match.group(1))] = match.group(2)
    return entries


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", ()), ("requirements-test.lock", ("test", "spark"))]
)
def test_the_lock_pins_every_direct_dependency_at_its_pyproject_version(
    lock: str, extras: tuple[str, ...]
) -> None:
    entries = locked(ROOT / lock)
    wanted = direct_pins(extras)
    assert {name: entries.get(name) for name in wanted} == wanted


def test_make_run_installs_no_spark() -> None:
    """pyspark (and its Java) is for the silent population run on Spark, never for the service itself."""
    spark_only = direct_pins(("spark",)).keys() - direct_pins(()).keys()
    assert spark_only and not spark_only & locked(ROOT / "requirements.lock").keys()


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-test.lock"])
def test_every_locked_package_carries_a_hash_and_no_machine_specific_index(lock: str) -> None:
    lines = (ROOT / lock).read_text(encoding="utf-8").splitlines()
    hashed: dict[str, bool] = {}
    package = None
    for line in lines:
        if (match := PIN.match(line)) is not None:
            package = match.group(1)
            hashed[package] = False
        if package is not None and "--hash=sha256:" in line:
            hashed[package] = True
    assert hashed and [name for name, has in hashed.items() if not has] == []
    machine_specific = ("--index-url", "--extra-index-url", "--find-links")
    assert not [line for line in lines if line.startswith(machine_specific)]


def test_the_test_lock_is_the_run_lock_plus_the_test_tools() -> None:
    run, test = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-test.lock")
    assert {name: test.get(name) for name in run} == run
