"""TableStore: round trips, roles through Parquet, atomic writes, names, listing and export."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from fedloom.errors import Conflict, InvalidInput, NotFound
from fedloom.storage.csv_import import read_csv
from fedloom.storage.frame import Frame
from fedloom.storage.tables import TableStore


def _frame(n: int = 10) -> Frame:
    features = np.arange(n * 3, dtype=np.float64).reshape(n, 3) / 4
    features[1:2, 2] = np.nan
    return Frame(
        ids=np.array([f"u{i}" for i in range(n)], dtype=object),
        features=features,
        feature_names=["x0", "x1", "x2"],
        label=(np.arange(n) % 2).astype(np.float64),
        label_name="y",
        id_name="sid",
        extra={
            "predict_result": np.arange(n, dtype=np.int64),
            "predict_score": np.linspace(0, 1, n),
            "type": np.array(["train"] * n, dtype=object),
            "predict_detail": np.array([{"0": 0.5, "1": [i, None]} for i in range(n)], dtype=object),
            "flag": np.arange(n) % 3 == 0,
            "code": np.array(["ab"] * n),
        },
        meta={"source": "test", "nested": {"k": [1, 2.5, None]}},
    )


def _assert_same(a: Frame, b: Frame) -> None:
    assert a.ids.tolist() == b.ids.tolist()
    assert a.ids.dtype == b.ids.dtype == object
    np.testing.assert_array_equal(a.features, b.features)
    assert a.feature_names == b.feature_names
    assert (a.label is None) == (b.label is None)
    if a.label is not None and b.label is not None:
        np.testing.assert_array_equal(a.label, b.label)
    assert (a.label_name, a.id_name, a.meta) == (b.label_name, b.id_name, b.meta)
    assert list(a.extra) == list(b.extra)
    for name, col in a.extra.items():
        assert col.dtype == b.extra[name].dtype, name
        assert col.tolist() == b.extra[name].tolist(), name


@pytest.fixture
def store(tmp_path: Path) -> TableStore:
    return TableStore(tmp_path / "tables")


def test_write_read_round_trip_keeps_label_extra_and_meta(store: TableStore) -> None:
    frame = _frame()
    info = store.write("experiment", "t1", frame, partitions=3)
    assert (info.namespace, info.name, info.count, info.partitions) == ("experiment", "t1", 10, 3)
    _assert_same(store.read("experiment", "t1"), frame)


def test_frame_without_label_round_trips(store: TableStore) -> None:
    frame = read_csv(b"id,y,x0\na,1,2\nb,0,\n")
    store.write("ns", "raw", frame)
    _assert_same(store.read("ns", "raw"), frame)


def test_partitions_are_row_ranges(store: TableStore) -> None:
    store.write("ns", "t", _frame(10), partitions=4)
    parts = sorted((store.root / "ns" / "t").glob("*.parquet"))
    assert [p.name for p in parts] == [f"part-0000{i}.parquet" for i in range(4)]
    assert [pq.read_metadata(p).num_rows for p in parts] == [3, 3, 2, 2]
    assert pq.read_table(parts[1]).column("sid").to_pylist() == ["u3", "u4", "u5"]


def test_more_partitions_than_rows_and_empty_frame(store: TableStore) -> None:
    store.write("ns", "small", _frame(2), partitions=5)
    assert store.read("ns", "small").count == 2
    empty = _frame(0)
    assert store.write("ns", "empty", empty, partitions=2).count == 0
    _assert_same(store.read("ns", "empty"), empty)


def test_info_schema(store: TableStore) -> None:
    store.write("ns", "t", _frame(), extra_schema={"delimiter": "\t", "extend_sid": False})
    schema = store.info("ns", "t").schema
    assert schema["header"] == _frame().header()[1:]
    assert schema["sid"] == schema["id_name"] == "sid"
    assert schema["label_name"] == "y"
    assert schema["feature_names"] == ["x0", "x1", "x2"]
    assert schema["delimiter"] == "\t"
    assert schema["extend_sid"] is False
    assert schema["meta"] == _frame().meta


def test_extra_schema_cannot_override_derived_keys(store: TableStore) -> None:
    with pytest.raises(InvalidInput, match="header"):
        store.write("ns", "t", _frame(), extra_schema={"header": ["nope"]})
    assert not store.exists("ns", "t")


def test_existing_table_conflicts_unless_overwrite(store: TableStore) -> None:
    store.write("experiment", "breast_hetero_guest", _frame(4))
    with pytest.raises(Conflict) as caught:
        store.write("experiment", "breast_hetero_guest", _frame(6))
    assert caught.value.message == (
        "table experiment.breast_hetero_guest already exists; pass drop=1 to replace it"
    )
    assert store.read("experiment", "breast_hetero_guest").count == 4
    store.write("experiment", "breast_hetero_guest", _frame(6), overwrite=True)
    assert store.info("experiment", "breast_hetero_guest").count == 6
    assert _leftovers(store) == []


def test_failed_write_leaves_nothing(store: TableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on_second_part(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        store.write("ns", "t", _frame(), partitions=4)
    assert not store.exists("ns", "t")
    assert store.list() == []
    assert _leftovers(store) == []


def test_failed_overwrite_keeps_the_old_table(store: TableStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write("ns", "t", _frame(4))
    _fail_on_second_part(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        store.write("ns", "t", _frame(8), overwrite=True)
    assert store.read("ns", "t").count == 4
    assert _leftovers(store) == []


def test_a_writer_that_loses_the_race_gets_conflict(
    store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pq.write_table
    winner = _frame(3)

    def racing(table: Any, where: Any, **kwargs: Any) -> None:
        real(table, where, **kwargs)
        if not store.exists("ns", "t"):  # another writer publishes while we are still writing
            monkeypatch.setattr(pq, "write_table", real)
            store.write("ns", "t", winner)

    monkeypatch.setattr(pq, "write_table", racing)
    with pytest.raises(Conflict, match="already exists"):
        store.write("ns", "t", _frame(5))
    _assert_same(store.read("ns", "t"), winner)
    assert _leftovers(store) == []


def test_unstorable_frame_is_refused_before_touching_disk(store: TableStore) -> None:
    frame = _frame(2)
    frame.extra["bad"] = np.array([object(), object()], dtype=object)
    with pytest.raises(InvalidInput, match="'bad'"):
        store.write("ns", "t", frame)
    with pytest.raises(InvalidInput, match="ids must be strings"):
        store.write(
            "ns", "t", Frame(ids=np.array([1, 2], dtype=object), features=np.zeros((2, 0)), feature_names=[])
        )
    assert not (store.root / "ns").exists()


@pytest.mark.parametrize(
    ("namespace", "name", "field"),
    [
        ("..", "t", "namespace"),
        ("ns", "../etc", "table_name"),
        ("ns", "a/b", "table_name"),
        ("ns", ".hidden", "table_name"),
        ("ns", "", "table_name"),
        ("n s", "t", "namespace"),
        ("ns", "t" * 201, "table_name"),
        ("ns", "tab\x00le", "table_name"),
    ],
)
def test_names_are_validated(store: TableStore, namespace: str, name: str, field: str) -> None:
    for call in (store.exists, store.read, store.info, store.delete):
        with pytest.raises(InvalidInput, match=f"^{field} "):
            call(namespace, name)
    with pytest.raises(InvalidInput, match=f"^{field} "):
        store.write(namespace, name, _frame())


def test_allowed_names(store: TableStore) -> None:
    store.write("experiment-1.v2", "output_data_2022_hetero_lr_0.0", _frame(2))
    assert store.exists("experiment-1.v2", "output_data_2022_hetero_lr_0.0")


def test_missing_table_is_not_found_with_its_name(store: TableStore) -> None:
    for call in (store.read, store.info, store.preview):
        with pytest.raises(NotFound, match="table experiment.nope does not exist"):
            call("experiment", "nope")
    assert store.exists("experiment", "nope") is False


def test_preview_reads_only_the_first_rows(store: TableStore) -> None:
    frame = _frame(10)
    store.write("ns", "t", frame, partitions=4)
    header, rows = store.preview("ns", "t", limit=5)
    assert header == frame.header()
    assert rows == frame.rows(5)
    assert store.preview("ns", "t", limit=100)[1] == frame.rows()
    assert store.preview("ns", "t", limit=0) == (frame.header(), [])
    with pytest.raises(InvalidInput, match="limit"):
        store.preview("ns", "t", limit=-1)


def test_list_and_delete(store: TableStore) -> None:
    assert store.list() == []
    store.write("b", "t2", _frame(2))
    store.write("a", "t1", _frame(3))
    store.write("b", "t1", _frame(4))
    assert [(i.namespace, i.name, i.count) for i in store.list()] == [
        ("a", "t1", 3),
        ("b", "t1", 4),
        ("b", "t2", 2),
    ]
    assert [i.name for i in store.list("b")] == ["t1", "t2"]
    assert store.list("zzz") == []
    assert store.delete("b", "t1") is True
    assert store.delete("b", "t1") is False
    assert [i.name for i in store.list("b")] == ["t2"]
    assert _leftovers(store) == []


def test_list_skips_staging_directories(store: TableStore) -> None:
    store.write("ns", "t", _frame(2))
    (store.root / "ns" / ".tmp-x-123").mkdir()
    assert [i.name for i in store.list()] == ["t"]


def test_export_csv_to_path_and_stream(store: TableStore, tmp_path: Path) -> None:
    raw = b"id,y,x0,x1\n10,1,0.5,-1.25\n11,0,,3\n"
    store.write("ns", "t", read_csv(raw))
    path = tmp_path / "out.csv"
    assert store.export_csv("ns", "t", path) == 2
    assert path.read_bytes() == raw
    stream = io.BytesIO()
    assert store.export_csv("ns", "t", stream, delimiter=";", header=False) == 2
    assert stream.getvalue() == b"10;1;0.5;-1.25\n11;0;;3\n"


def test_export_csv_of_a_frame_with_label_and_extras(store: TableStore, tmp_path: Path) -> None:
    store.write("ns", "t", _frame(3))
    path = tmp_path / "out.csv"
    store.export_csv("ns", "t", path)
    header = path.read_text().splitlines()[0]
    assert header == "sid,y,x0,x1,x2,predict_result,predict_score,type,predict_detail,flag,code"


def test_large_table_round_trip(store: TableStore) -> None:
    rng = np.random.default_rng(1)
    frame = Frame(
        ids=np.arange(100_000).astype(str).astype(object),
        features=rng.standard_normal((100_000, 30)),
        feature_names=[f"x{j}" for j in range(30)],
    )
    store.write("ns", "big", frame, partitions=16)
    back = store.read("ns", "big")
    assert back.features.flags.c_contiguous
    _assert_same(back, frame)


def _fail_on_second_part(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pq.write_table
    calls = []

    def flaky(table: Any, where: Any, **kwargs: Any) -> None:
        calls.append(where)
        if len(calls) == 2:
            raise OSError("disk full")
        real(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", flaky)  # the same module object tables.py writes with


def _leftovers(store: TableStore) -> list[str]:
    """Temporary or trash entries still on disk."""
    return sorted(str(p) for p in store.root.rglob(".*"))
