"""FATE's example tables (breast hetero/homo) and synthetic ones, built from scikit-learn's bundled data."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.preprocessing import StandardScaler

from fedloom.errors import InvalidInput
from fedloom.storage.csv_import import write_csv
from fedloom.storage.frame import FloatArray, Frame

NAMESPACE = "experiment"
DECIMALS = 6  # values are rounded so a CSV written with shortest round-trip floats stays short
HOMO_SEED = 1
GUEST_FEATURES = 10

IntArray = npt.NDArray[np.int64]


def breast_hetero() -> tuple[Frame, Frame]:
    """Raw (pre-DataTransform) guest (id, y, x0..x9) and host (id, x0..x19) frames, 569 rows each."""
    x, y = plain_pooled_breast()
    ids = _ids(np.arange(len(y)))
    return _raw_frame(ids, x[:, :GUEST_FEATURES], y), _raw_frame(ids, x[:, GUEST_FEATURES:], None)


def breast_homo() -> tuple[Frame, Frame]:
    """Guest and host (id, y, x0..x29) frames holding a seeded even/odd half of the rows each."""
    x, y = plain_pooled_breast()
    order = np.random.default_rng(HOMO_SEED).permutation(len(y))
    halves = np.sort(order[0::2]), np.sort(order[1::2])
    guest, host = (_raw_frame(_ids(rows), x[rows], y[rows]) for rows in halves)
    return guest, host


def synthetic_hetero(
    n_rows: int, n_features: int = 30, guest_features: int = GUEST_FEATURES, seed: int = 42
) -> tuple[Frame, Frame]:
    """make_classification data, standardized: guest (id, y, x0..x{g-1}), host (id, x0..x{rest-1})."""
    if n_rows < 2 or n_features < 3 or not 1 <= guest_features < n_features:
        raise InvalidInput(
            "synthetic data needs n_rows >= 2, n_features >= 3 and 1 <= guest_features < n_features; "
            f"got {n_rows}, {n_features}, {guest_features}"
        )
    raw_x, raw_y = make_classification(
        n_samples=n_rows, n_features=n_features, n_redundant=min(2, n_features - 2), random_state=seed
    )
    x, y = _standardized(raw_x), np.asarray(raw_y, dtype=np.int64)
    ids = _ids(np.arange(n_rows))
    return _raw_frame(ids, x[:, :guest_features], y), _raw_frame(ids, x[:, guest_features:], None)


def plain_pooled_breast() -> tuple[FloatArray, IntArray]:
    """All 569 rows, standardized and rounded exactly as in the demo tables, for sklearn baselines."""
    x, y = _breast()
    return x.copy(), y.copy()


def write_demo(out_dir: Path, synthetic_rows: int | None = None) -> list[Path]:
    """Write the demo CSVs and FATE-style upload confs (`upload_<table>.json`) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = dict(zip(("breast_hetero_guest", "breast_hetero_host"), breast_hetero(), strict=True))
    tables.update(zip(("breast_homo_guest", "breast_homo_host"), breast_homo(), strict=True))
    if synthetic_rows is not None:
        synthetic = synthetic_hetero(synthetic_rows)
        tables.update(zip(("synthetic_hetero_guest", "synthetic_hetero_host"), synthetic, strict=True))
    written: list[Path] = []
    for name, frame in tables.items():
        written.extend(_write_table(out_dir, name, frame))
    return written


def upload_conf(csv_path: Path, table_name: str, partitions: int = 4) -> dict[str, object]:
    """The `flow data upload -c` conf for one CSV (FATE §10.2 shape, absolute `file`)."""
    return {
        "file": str(csv_path.resolve()),
        "id_delimiter": ",",
        "head": 1,
        "partition": partitions,
        "namespace": NAMESPACE,
        "table_name": table_name,
    }


def _write_table(out_dir: Path, name: str, frame: Frame) -> list[Path]:
    csv_path = out_dir / f"{name}.csv"
    write_csv(frame, csv_path)
    conf_path = out_dir / f"upload_{name}.json"
    conf_path.write_text(json.dumps(upload_conf(csv_path, name), indent=2) + "\n")
    return [csv_path, conf_path]


@lru_cache(maxsize=1)
def _breast() -> tuple[FloatArray, IntArray]:
    data = load_breast_cancer()
    return _standardized(data.data), np.asarray(data.target, dtype=np.int64)


def _standardized(x: npt.NDArray[np.float64]) -> FloatArray:
    scaled: FloatArray = np.asarray(StandardScaler().fit_transform(x), dtype=np.float64)
    return np.round(scaled, DECIMALS)


def _ids(rows: npt.NDArray[np.intp] | npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    return rows.astype(str).astype(object)


def _raw_frame(ids: npt.NDArray[np.object_], x: FloatArray, y: IntArray | None) -> Frame:
    """A frame as read_csv returns it: y, if any, is just the first feature column."""
    names = [f"x{j}" for j in range(x.shape[1])]
    if y is None:
        return Frame(ids=ids, features=np.ascontiguousarray(x), feature_names=names)
    features = np.column_stack([y.astype(np.float64), x])
    return Frame(ids=ids, features=features, feature_names=["y", *names])


__all__ = [
    "breast_hetero",
    "breast_homo",
    "plain_pooled_breast",
    "synthetic_hetero",
    "upload_conf",
    "write_csv",
    "write_demo",
]
