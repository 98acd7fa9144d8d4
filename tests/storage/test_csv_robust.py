"""read_csv on hostile input: every refusal is an InvalidInput naming line (and column), nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedloom.errors import InvalidInput
from fedloom.storage.csv_import import MAX_NAME_CHARS, read_csv

KIB = 1024
MIB = 1024 * KIB


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,x\r1,2\r3,4\r", "line 1, column 5: a carriage return"),
        (b"id,x\n" + b"a" * (128 * KIB) + b",1\n", "line 2, column id: an id of 131072 characters"),
        (b"id,x\n1," + b"1" * (128 * KIB) + b"\n", "line 2, column x: the value is infinite"),
        (b"id,x\n1," + b"z" * (128 * KIB) + b"\n", "line 2, column x: 'zzzz"),
        (b"id,x\n" + b"a" * (10 * MIB) + b",1\n", "line 2, column 1: a field of more than"),
        (b"id,x\n1," + b"9" * (10 * MIB) + b"\n", "line 2, column 2: a field of more than"),
        (b"id," + b"x" * MIB + b"\n1,2\n", "line 1, column 2: a field of more than"),
        (b"id," + b"x" * (MAX_NAME_CHARS + 1) + b"\n1,2\n", "header: column 2 has a name of 1025 characters"),
        ("id,x\n1,2\n".encode("utf-16"), "line 1: the file is UTF-16"),
        ("id,x\n1,2\n".encode("utf-16-be"), "line 1, byte 1: a NUL byte; is the file UTF-16?"),
        (b"\x01\x02\xff\xfe\x80", "line 1 is not valid UTF-8"),
        (b"", "the CSV is empty"),
        (b"id,x\n", "no data rows"),
        (b"id,x\r\n", "no data rows"),
        (b"id,x\n1,inf\n", "line 2, column x: the value is infinite"),
        (b"id,x,y\n1,2,3\n2,3,-Infinity\n", "line 3, column y: the value is infinite"),
        (b"id,x\n1,1e999\n", "line 2, column x: the value is infinite"),
    ],
)
def test_hostile_csv_gets_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_csv(data)
    assert message in caught.value.message
    assert len(caught.value.message) < 400  # never the whole offending field


def test_a_file_gets_the_same_errors_as_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,x\n" + b"a" * (10 * MIB) + b",1\n")
    with pytest.raises(InvalidInput, match="line 2, column 1"):
        read_csv(path)


def test_nan_means_missing_and_is_stored() -> None:
    frame = read_csv(b"id,x\n1,nan\n2,NaN\n3,5\n")
    assert np.isnan(frame.features[:2, 0]).all()
    assert frame.rows() == [["1", None], ["2", None], ["3", 5]]


def test_crlf_and_a_quoted_cr_are_fine() -> None:
    frame = read_csv(b'id,x\r\n"a\rb",1\r\n')
    assert frame.ids.tolist() == ["a\rb"]


def test_binary_garbage_after_a_good_start_names_its_line() -> None:
    data = b"id,x\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(5000)) + b"9999,\xff\xfe\n"
    with pytest.raises(InvalidInput, match="line 5002"):
        read_csv(data)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_get_invalid_input(data: bytes) -> None:
    try:
        read_csv(data)
    except InvalidInput:
        pass


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("id,x0.5-e\r\n\"'inf;NA \t\x00")), max_size=200))
def test_any_csv_like_text_parses_or_gets_invalid_input(text: str) -> None:
    try:
        frame = read_csv(text.encode())
    except InvalidInput:
        return
    assert not np.isinf(frame.features).any()


def test_random_files_of_a_megabyte() -> None:
    for seed in range(3):
        rng = np.random.default_rng(seed)
        with pytest.raises(InvalidInput):
            read_csv(rng.bytes(MIB) + os.urandom(8))


def test_rows_are_strict_json_whatever_the_floats() -> None:
    import json

    from fedloom.storage.frame import Frame, json_safe

    frame = Frame(
        ids=np.array(["a", "b"], dtype=object),
        features=np.array([[np.inf, np.nan], [-np.inf, 1e308]]),
        feature_names=["x", "y"],
        extra={"d": np.array([{"p": [float("nan"), float("inf")]}, None], dtype=object)},
    )
    rows = frame.rows()
    assert json.loads(json.dumps(rows, allow_nan=False)) == [
        ["a", "inf", None, {"p": [None, "inf"]}],
        ["b", "-inf", 1e308, None],
    ]
    assert json_safe({"k": (1.5, float("-inf"))}) == {"k": [1.5, "-inf"]}
