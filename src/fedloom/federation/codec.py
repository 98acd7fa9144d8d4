"""The typed wire codec: msgpack with a closed set of extension types. Never pickle.

Accepted values: None, bool, int (any size), float, str, bytes, list, tuple, dict with str/int keys,
and numpy arrays of bool/int/uint/float dtypes. Anything else is refused when encoding, and unknown
extension codes are refused when decoding.
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

from fedloom.errors import InvalidInput

_BIGINT = 1
_NDARRAY = 2
_TUPLE = 3
_ALLOWED_KINDS = frozenset("biuf")
_MAX_ARRAY_DIMS = 8


def _default(obj: Any) -> Any:
    if isinstance(obj, int):  # outside int64/uint64: msgpack hands it to us
        sign = b"-" if obj < 0 else b"+"
        mag = abs(obj)
        return msgpack.ExtType(_BIGINT, sign + mag.to_bytes((mag.bit_length() + 7) // 8 or 1, "big"))
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in _ALLOWED_KINDS:
            raise InvalidInput(f"codec: numpy dtype {obj.dtype} is not allowed on the wire")
        arr = np.ascontiguousarray(obj)
        header = msgpack.packb([arr.dtype.str, list(arr.shape)])
        return msgpack.ExtType(_NDARRAY, header + arr.tobytes())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return msgpack.ExtType(_TUPLE, dumps(list(obj)))
    if hasattr(obj, "__int__") and type(obj).__name__ == "mpz":  # gmpy2 integers
        return _default(int(obj))
    raise InvalidInput(f"codec: values of type {type(obj).__name__} cannot be sent")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _BIGINT:
        value = int.from_bytes(data[1:], "big")
        return -value if data[:1] == b"-" else value
    if code == _NDARRAY:
        unpacker = msgpack.Unpacker(raw=False)
        unpacker.feed(data)
        dtype_str, shape = next(unpacker)
        offset = unpacker.tell()
        dtype = np.dtype(dtype_str)
        if dtype.kind not in _ALLOWED_KINDS or len(shape) > _MAX_ARRAY_DIMS:
            raise InvalidInput(f"codec: refusing array of dtype {dtype_str}")
        return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape).copy()
    if code == _TUPLE:
        return tuple(loads(data))
    raise InvalidInput(f"codec: unknown extension type {code}")


def dumps(obj: Any) -> bytes:
    """Encode `obj`; raises InvalidInput naming the first type that is not allowed."""
    return msgpack.packb(obj, default=_default, use_bin_type=True, strict_types=True)  # type: ignore[no-any-return]


def loads(data: bytes | memoryview) -> Any:
    """Decode bytes made by `dumps`; raises InvalidInput on anything else."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except InvalidInput:
        raise
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise InvalidInput(f"codec: malformed message ({exc})") from exc


__all__ = ["dumps", "loads"]
