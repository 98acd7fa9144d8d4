"""benchmarks/bench_cluster.py runs end to end at its smallest: both modes finish the Hetero LR job with the
same AUC, the table is printed and nothing is left behind. Outcomes only, never timings (the figures are
in the benchmark's own output)."""

from __future__ import annotations

import importlib.util
import math
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cluster.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cluster", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(900)
def test_main_runs_both_modes_to_the_same_auc_and_cleans_up(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    result = bench.main(["--runs", "1", "--max-iter", "2", "--sqlite-only"])

    for mode in ("standalone", "cluster", "cluster_all_parties"):
        for stat in ("median_s", "min_s"):
            assert math.isfinite(result[f"{mode}_{stat}"]) and result[f"{mode}_{stat}"] > 0, result
    assert math.isfinite(result["ratio"]) and result["ratio"] > 0, result
    assert result["cluster_all_parties_median_s"] >= result["cluster_median_s"]  # the guest is one of them
    assert 0.5 < result["standalone_auc"] <= 1.0, result
    assert result["cluster_auc"] == pytest.approx(result["standalone_auc"], abs=1e-9)
    assert result["auc_spread"] < 1e-9
    out = capsys.readouterr().out
    for text in ("subprocess hosting all three parties", "(all SQLite)", "cluster, all parties"):
        assert text in out
    assert "AUC equal in every run: yes" in out
    for component in bench.COMPONENTS:
        assert component in out
    assert "load average (1/5/15 min): before" in out
    assert list(tmp_path.iterdir()) == []  # servers stopped, data dirs removed
