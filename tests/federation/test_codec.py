"""The typed codec: round trips, and refusal of everything else (no pickle on the wire)."""

from __future__ import annotations

import pickle

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedloom.errors import InvalidInput
from fedloom.federation import codec

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: object) -> None:
    assert codec.loads(codec.dumps(value)) == value


def test_big_ints_tuples_and_arrays() -> None:
    obj = {"c": [2**2048 + 1, -(2**300)], "t": (1, "a"), "a": np.arange(6, dtype=np.int64).reshape(2, 3)}
    back = codec.loads(codec.dumps(obj))
    assert back["c"] == obj["c"] and back["t"] == (1, "a")
    np.testing.assert_array_equal(back["a"], obj["a"])


@pytest.mark.parametrize("bad", [object(), {1, 2}, np.array(["a"], dtype=object), lambda: 1])
def test_refuses_unknown_types(bad: object) -> None:
    with pytest.raises(InvalidInput):
        codec.dumps(bad)


def test_refuses_pickle_and_unknown_extensions() -> None:
    with pytest.raises(InvalidInput):
        codec.loads(pickle.dumps({"x": 1}))
    with pytest.raises(InvalidInput):
        codec.loads(msgpack.packb(msgpack.ExtType(99, b"x")))
    bad_array = msgpack.packb(msgpack.ExtType(2, msgpack.packb(["|O", [1]]) + b"\x00" * 8))
    with pytest.raises(InvalidInput):
        codec.loads(bad_array)
