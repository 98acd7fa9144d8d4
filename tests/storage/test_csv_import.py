"""read_csv / write_csv: parsing, every refusal with its line and column, and CSV round trips."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedloom.errors import InvalidInput
from fedloom.storage.csv_import import read_csv, write_csv
from fedloom.storage.frame import Frame

GOOD = b"id,y,x0,x1\n10,1,0.5,-1.25\n11,0,,3\n12,1,NA,null\n"


def test_parses_ids_as_strings_and_every_other_column_as_features() -> None:
    frame = read_csv(GOOD)
    assert frame.ids.tolist() == ["10", "11", "12"]
    assert frame.ids.dtype == object
    assert frame.id_name == "id"
    assert frame.feature_names == ["y", "x0", "x1"]
    assert frame.label is None
    expected = np.array([[1, 0.5, -1.25], [0, np.nan, 3], [1, np.nan, np.nan]])
    np.testing.assert_array_equal(frame.features, expected)
    assert frame.features.dtype == np.float64


def test_reads_a_path_the_same_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(GOOD)
    assert read_csv(path).rows() == read_csv(GOOD).rows()


def test_ids_keep_leading_zeros_and_null_like_text() -> None:
    frame = read_csv(b"id,x\n007,1\nNA,2\n")
    assert frame.ids.tolist() == ["007", "NA"]


def test_no_header_names_columns_x0_onwards() -> None:
    frame = read_csv(b"a,1,2\nb,3,4\n", head=False)
    assert frame.id_name == "id"
    assert frame.feature_names == ["x0", "x1"]
    assert frame.ids.tolist() == ["a", "b"]


def test_id_column_can_be_named() -> None:
    frame = read_csv(b"x0,sid,x1\n1,a,2\n3,b,4\n", id_column="sid")
    assert frame.id_name == "sid"
    assert frame.ids.tolist() == ["a", "b"]
    assert frame.feature_names == ["x0", "x1"]
    np.testing.assert_array_equal(frame.features, [[1, 2], [3, 4]])


def test_extend_sid_generates_ids_and_keeps_every_column() -> None:
    frame = read_csv(b"a,b\n1,2\n3,4\n5,6\n", extend_sid=True)
    assert frame.ids.tolist() == ["0", "1", "2"]
    assert frame.feature_names == ["a", "b"]
    np.testing.assert_array_equal(frame.features[:, 0], [1, 3, 5])


def test_other_delimiter_bom_crlf_and_blank_lines() -> None:
    frame = read_csv(b"\xef\xbb\xbfid\tx\r\n1\t2\r\n\r\n3\t4\r\n", delimiter="\t")
    assert frame.id_name == "id"
    assert frame.ids.tolist() == ["1", "3"]


def test_ids_only_table() -> None:
    frame = read_csv(b"id\na\nb\n")
    assert frame.features.shape == (2, 0)


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (b"", {}, "empty"),
        (b"\n\n", {}, "empty"),
        (b"id,x0\n", {}, "no data rows"),
        (b"\nid,x\n1,2\n", {}, "line 1 is empty"),
        (b"id,x0,x1\n1,2,3\n2,3\n", {}, "line 3 has 2 fields, header has 3"),
        (b"id,x0,x1\n1,2,3\n2,3,4,5\n", {}, "line 3 has 4 fields, header has 3"),
        (b"1,2,3\n2,3\n", {"head": False}, "line 2 has 2 fields, line 1 has 3"),
        (b"id,x0,x1,x2,x3\n1,1,1,1,1\n2,1,1,1,1\n3,1,1,1,1\n4,1,1,1,abc\n", {}, "line 5, column x3: 'abc'"),
        (b"id,x0\n1,2\n\n2,1e\n", {}, "line 4, column x0: '1e' is not a number"),
        (b"id,x\n1,1\n42,2\n3,3\n4,4\n5,5\n6,6\n7,7\n42,8\n", {}, "duplicate id '42' (lines 3 and 9)"),
        (b"id,x\n1,1\n\n2,2\n1,3\n", {}, "duplicate id '1' (lines 2 and 5)"),
        (b"id,x\n1,1\n,2\n", {}, "line 3: empty id"),
        (b"id,x\n1,1\n2,\xff\n", {}, "line 3 is not valid UTF-8"),
        (b"id,x0,x0\n1,2,3\n", {}, "duplicate column name 'x0' (columns 2 and 3)"),
        (b"id,,x1\n1,2,3\n", {}, "column 2 has an empty name"),
        (b"id,x\n1,2\n", {"id_column": "sid"}, "id column 'sid' is not in the header"),
        (b"id,x\n1,2\n", {"delimiter": ";;"}, "delimiter"),
        (b"id,x\n1,2\n", {"id_column": "id", "extend_sid": True}, "cannot be used together"),
        (b"1,2\n", {"id_column": "id", "head": False}, "needs a header"),
    ],
)
def test_bad_csv_is_refused_with_where(data: bytes, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_csv(data, **kwargs)  # type: ignore[arg-type]
    assert message in caught.value.message


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_csv(tmp_path / "nope.csv")


def test_hundred_thousand_rows_by_thirty_columns() -> None:
    rng = np.random.default_rng(0)
    values = np.round(rng.standard_normal((100_000, 30)), 6)
    frame = Frame(
        ids=np.arange(100_000).astype(str).astype(object),
        features=values,
        feature_names=[f"x{j}" for j in range(30)],
    )
    out = io.BytesIO()
    write_csv(frame, out)
    parsed = read_csv(out.getvalue())
    assert parsed.features.shape == (100_000, 30)
    np.testing.assert_array_equal(parsed.features, values)
    assert parsed.ids[-1] == "99999"


def test_write_csv_is_bare_like_fates_files() -> None:
    frame = Frame(
        ids=np.array(["a", "b"], dtype=object),
        features=np.array([[1.0, 0.25], [np.nan, -3.0]]),
        feature_names=["x0", "x1"],
        label=np.array([1.0, 0.0]),
        label_name="y",
    )
    out = io.BytesIO()
    assert write_csv(frame, out) == 2
    assert out.getvalue() == b"id,y,x0,x1\na,1,1,0.25\nb,0,,-3\n"


def test_write_csv_quotes_only_when_a_value_needs_it() -> None:
    frame = Frame(
        ids=np.array(["a", "b"], dtype=object),
        features=np.zeros((2, 0)),
        feature_names=[],
        extra={"predict_detail": np.array([{"0": 0.25, "1": 0.75}, {"0": 1.0, "1": 0.0}], dtype=object)},
    )
    out = io.BytesIO()
    write_csv(frame, out, delimiter=",")
    lines = out.getvalue().decode().splitlines()
    assert lines[0] == "id,predict_detail"
    assert lines[1] == '"a","{""0"": 0.25, ""1"": 0.75}"'


def test_write_csv_without_header_and_tab_delimiter(tmp_path: Path) -> None:
    frame = read_csv(GOOD)
    path = tmp_path / "out.tsv"
    write_csv(frame, path, delimiter="\t", header=False)
    assert path.read_text().splitlines()[1] == "11\t0\t\t3"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]  # no temporary file left


@settings(max_examples=50, deadline=None, database=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=3, max_size=3),
        min_size=1,
        max_size=20,
    )
)
def test_csv_round_trip_is_exact(rows: list[list[float]]) -> None:
    values = np.array(rows, dtype=np.float64)
    frame = Frame(
        ids=np.array([f"id{i}" for i in range(len(rows))], dtype=object),
        features=values,
        feature_names=["a", "b", "c"],
    )
    out = io.BytesIO()
    write_csv(frame, out)
    back = read_csv(out.getvalue())
    np.testing.assert_array_equal(back.features, values)
    assert back.ids.tolist() == frame.ids.tolist()
