"""The synthetic export: deterministic, the documented mix, split files and exact malformed-line count."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from cds_service.population.generator import MIX, generate
from cds_service.population.ndjson import parse_line


def test_same_seed_same_export_and_the_mix_follows_the_weights(tmp_path: Path) -> None:
    first = generate(400, tmp_path / "a", seed=9, split_files=2, malformed_lines=3, as_of=date(2026, 3, 1))
    second = generate(400, tmp_path / "b", seed=9, split_files=2, malformed_lines=3, as_of=date(2026, 3, 1))
    assert first == second
    for name in first["files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    weights = dict(MIX)
    total = sum(weights.values())
    for archetype, count in first["mix"].items():
        assert abs(count / 400 - weights[archetype] / total) < 0.08, archetype
    assert set(first["mix"]) >= {name for name, weight in MIX if weight >= 3}


def test_split_files_and_exact_malformed_lines(tmp_path: Path) -> None:
    manifest = generate(60, tmp_path, seed=2, split_files=3, malformed_lines=5)
    assert {"Observation.000.ndjson", "Observation.001.ndjson", "Observation.002.ndjson"} <= set(
        manifest["files"]
    )
    broken = 0
    for path in tmp_path.glob("*.ndjson"):
        broken += sum(isinstance(parse_line(line), str) for line in path.read_bytes().splitlines())
    assert broken == 5
    assert json.loads((tmp_path / "generator-manifest.json").read_text())["patients"] == 60
