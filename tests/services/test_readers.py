"""The one Reader table check: what it returns, and its one message per refusal."""

from __future__ import annotations

import pytest

from fedloom.errors import InvalidInput
from fedloom.ids import Party
from fedloom.platform import Platform
from fedloom.services.readers import TableName, reader_table

GUEST = Party("guest", 9999)


def test_a_table_the_party_has(platform: Platform) -> None:
    params = {"table": {"namespace": "experiment", "name": "guest_t"}}
    assert reader_table("reader_0", params, GUEST, platform.tables) == TableName("experiment", "guest_t")


def test_another_jobs_output_is_not_checked_here(platform: Platform) -> None:
    assert (
        reader_table("reader_0", {"table": {"job_id": "j", "component_name": "c"}}, GUEST, platform.tables)
        is None
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "component reader_0: parameter table (name, namespace) missing for guest 9999"),
        (
            {"table": {"namespace": "experiment"}},
            "component reader_0: parameter table (name, namespace) missing",
        ),
        (
            {"table": {"namespace": "experiment", "name": "absent"}},
            "component reader_0: table experiment.absent not found at guest 9999; upload it first (data/upload)",
        ),
        ({"table": "experiment.absent"}, "component reader_0: parameter table must be an object"),
    ],
)
def test_refusals(platform: Platform, params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        reader_table("reader_0", params, GUEST, platform.tables)
    assert err.value.message.startswith(message)
