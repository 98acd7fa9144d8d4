"""Demo tables: FATE's breast example shapes, ids and columns, and that the CSVs re-parse exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fedloom.errors import InvalidInput
from fedloom.storage.csv_import import read_csv
from fedloom.storage.demo_data import (
    breast_hetero,
    breast_homo,
    plain_pooled_breast,
    synthetic_hetero,
    write_demo,
)
from fedloom.storage.frame import Frame


def _names(prefix: list[str], n: int) -> list[str]:
    return prefix + [f"x{j}" for j in range(n)]


def test_breast_hetero_shapes_columns_and_ids() -> None:
    guest, host = breast_hetero()
    assert guest.header() == _names(["id", "y"], 10)
    assert host.header() == _names(["id"], 20)
    assert guest.count == host.count == 569
    assert guest.ids.tolist() == host.ids.tolist() == [str(i) for i in range(569)]
    assert guest.label is None and host.label is None
    y = guest.features[:, 0]
    assert (int((y == 1).sum()), int((y == 0).sum())) == (357, 212)


def test_breast_features_are_the_standardized_dataset_split_10_20() -> None:
    guest, host = breast_hetero()
    x, y = plain_pooled_breast()
    assert x.shape == (569, 30)
    np.testing.assert_array_equal(guest.features[:, 1:], x[:, :10])
    np.testing.assert_array_equal(host.features, x[:, 10:])
    np.testing.assert_array_equal(guest.features[:, 0], y)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)


def test_breast_homo_splits_rows_in_two_halves() -> None:
    guest, host = breast_homo()
    assert guest.header() == host.header() == _names(["id", "y"], 30)
    assert (guest.count, host.count) == (285, 284)
    ids = set(guest.ids.tolist())
    assert not ids & set(host.ids.tolist())
    assert ids | set(host.ids.tolist()) == {str(i) for i in range(569)}
    x, y = plain_pooled_breast()
    rows = np.array([int(i) for i in guest.ids])
    np.testing.assert_array_equal(guest.features, np.column_stack([y[rows], x[rows]]))
    assert breast_homo()[0].ids.tolist() == guest.ids.tolist()  # deterministic


def test_synthetic_hetero() -> None:
    guest, host = synthetic_hetero(200)
    assert guest.header() == _names(["id", "y"], 10)
    assert host.header() == _names(["id"], 20)
    assert guest.count == host.count == 200
    assert set(np.unique(guest.features[:, 0])) == {0.0, 1.0}
    np.testing.assert_array_equal(synthetic_hetero(200)[1].features, host.features)
    small_guest, small_host = synthetic_hetero(50, n_features=5, guest_features=2, seed=7)
    assert small_guest.feature_names == ["y", "x0", "x1"]
    assert small_host.feature_names == ["x0", "x1", "x2"]


def test_synthetic_hetero_refuses_bad_sizes() -> None:
    with pytest.raises(InvalidInput, match="guest_features"):
        synthetic_hetero(100, n_features=10, guest_features=10)


def test_plain_pooled_breast_returns_copies() -> None:
    x, _ = plain_pooled_breast()
    x[:] = 0
    assert plain_pooled_breast()[0].any()


def test_write_demo_csvs_reparse_into_equal_frames(tmp_path: Path) -> None:
    paths = write_demo(tmp_path / "demo", synthetic_rows=300)
    expected = {
        "breast_hetero_guest": breast_hetero()[0],
        "breast_hetero_host": breast_hetero()[1],
        "breast_homo_guest": breast_homo()[0],
        "breast_homo_host": breast_homo()[1],
        "synthetic_hetero_guest": synthetic_hetero(300)[0],
        "synthetic_hetero_host": synthetic_hetero(300)[1],
    }
    assert sorted(p.name for p in paths) == sorted(
        [f"{n}.csv" for n in expected] + [f"upload_{n}.json" for n in expected]
    )
    for name, frame in expected.items():
        _assert_equal(read_csv(tmp_path / "demo" / f"{name}.csv"), frame)


def test_write_demo_upload_confs(tmp_path: Path) -> None:
    write_demo(tmp_path)
    conf = json.loads((tmp_path / "upload_breast_hetero_guest.json").read_text())
    assert conf == {
        "file": str((tmp_path / "breast_hetero_guest.csv").resolve()),
        "id_delimiter": ",",
        "head": 1,
        "partition": 4,
        "namespace": "experiment",
        "table_name": "breast_hetero_guest",
    }
    first = (tmp_path / "breast_hetero_guest.csv").read_text().splitlines()[:2]
    assert first[0] == "id,y,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9"
    assert first[1].startswith("0,0,1.097064,-2.073335,")


def _assert_equal(a: Frame, b: Frame) -> None:
    assert a.header() == b.header()
    assert a.ids.tolist() == b.ids.tolist()
    np.testing.assert_array_equal(a.features, b.features)
    assert a.label is None and b.label is None
