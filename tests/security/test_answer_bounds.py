"""FATE's "all" (limit 0 or -1) is bounded in every answer; the API refuses limits and pages out of range."""

from __future__ import annotations

import pytest

from fedloom.server import EmbeddedServer
from fedloom.services._json import MAX_ROWS, bounded
from tests.e2e.conftest import Api


@pytest.mark.parametrize(("limit", "rows"), [(0, MAX_ROWS), (-1, MAX_ROWS), (5, 5), (MAX_ROWS + 1, MAX_ROWS)])
def test_all_means_at_most_max_rows(limit: int, rows: int) -> None:
    assert bounded(limit) == rows


@pytest.mark.parametrize(
    ("body", "field"),
    [({"limit": -1}, "limit"), ({"page": 0}, "page"), ({"limit": MAX_ROWS + 1}, "limit")],
)
def test_job_list_refuses_limits_out_of_range(
    sec_server: EmbeddedServer, body: dict[str, int], field: str
) -> None:
    res = Api(sec_server.url).post("/job/list/job", body)
    assert res["retcode"] == 101 and field in res["retmsg"], res
