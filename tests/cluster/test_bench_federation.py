"""benchmarks/bench_federation.py runs end to end on a tiny payload: every path delivers, the table and the
goal line are printed. Outcomes only, never timings (the figures are in the benchmark's own output)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_federation.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_federation", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_main_prints_every_path_and_the_goal(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    rates = bench.main(["--mb", "2", "--runs", "1"])

    assert set(rates) == set(bench.LABELS)
    assert all(math.isfinite(r) and r > 0 for r in rates.values()), rates
    out = capsys.readouterr().out
    assert "2.0 MB of 512-byte ciphertexts" in out
    for label in bench.LABELS.values():
        assert label in out
    assert "goal: fedloom/raw HTTPS >= 0.5:" in out


def test_ciphertexts_are_random_bytes_of_whole_ciphertexts(bench: ModuleType) -> None:
    data = bench.ciphertexts(0.01)

    assert len(data) == 10_000 // 512 * 512
    assert data.count(0) < len(data) // 64  # not zeros: compressible payloads would flatter a transport
