"""model_id follows FATE's format; job ids are 22 digits and unique across threads."""

from __future__ import annotations

import threading

import pytest

from fedloom.dsl import model_id_for, new_job_id
from fedloom.errors import InvalidInput


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ({"guest": [9999], "host": [10000], "arbiter": [10000]}, "arbiter-10000#guest-9999#host-10000#model"),
        ({"host": [10001, "10000", 10001], "guest": ["9999"]}, "guest-9999#host-10000_10001#model"),
        ({"local": [0]}, "local-0#model"),
        ({"host": [9, 10, 100]}, "host-9_10_100#model"),
    ],
)
def test_model_id_for(roles: dict[str, list[int | str]], expected: str) -> None:
    assert model_id_for(roles) == expected


def test_model_id_refuses_bad_party_ids() -> None:
    with pytest.raises(InvalidInput, match="role.host: party id 'x'"):
        model_id_for({"host": ["x"]})


def test_job_id_format() -> None:
    job_id = new_job_id()

    assert job_id.isdigit() and len(job_id) == 22
    assert job_id[:2] == "20"


def test_job_ids_are_unique_and_increasing_across_threads() -> None:
    per_thread: list[list[str]] = [[] for _ in range(8)]

    def work(out: list[str]) -> None:
        out.extend(new_job_id() for _ in range(3000))

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [job_id for ids in per_thread for job_id in ids]
    assert len(set(every)) == len(every)
    assert all(ids == sorted(ids) for ids in per_thread)
