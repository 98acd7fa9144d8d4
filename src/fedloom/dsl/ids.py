"""Job and model identifiers in FATE-Flow's formats."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from fedloom.dsl._util import to_party_id

_SEQ_LIMIT = 100  # two digits after the timestamp


class _JobIdClock:
    """Strictly increasing (timestamp, sequence) pairs, even when the wall clock stalls or steps back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime.min
        self._seq = 0

    def next(self) -> str:
        with self._lock:
            now = datetime.now()
            if now > self._last:
                self._last, self._seq = now, 0
            else:
                self._seq += 1
                if self._seq == _SEQ_LIMIT:
                    # Borrow the next microsecond rather than repeat an id.
                    self._last, self._seq = self._last + timedelta(microseconds=1), 0
            return f"{self._last:%Y%m%d%H%M%S%f}{self._seq:02d}"


_clock = _JobIdClock()


def new_job_id() -> str:
    """`%Y%m%d%H%M%S%f` + a 2-digit sequence: 22 digits, unique and increasing within the process."""
    return _clock.next()


def model_id_for(roles: Mapping[str, Iterable[int | str]]) -> str:
    """FATE's model id: `arbiter-10000#guest-9999#host-10000_10001#model`."""
    if not roles:
        return "all#model"
    parts = [f"{role}-{_joined_ids(roles[role], role)}" for role in sorted(roles)]
    return "#".join([*parts, "model"])


def _joined_ids(party_ids: Iterable[int | str], role: str) -> str:
    ids = {to_party_id(pid, f"role.{role}") for pid in party_ids}
    return "_".join(str(pid) for pid in sorted(ids))
