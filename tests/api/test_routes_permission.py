"""/v1/permission/grant|delete|query over the real service: FATE's body shapes and answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Client

T1 = {"namespace": "experiment", "name": "breast_hetero_host"}
T2 = {"namespace": "experiment", "name": "other"}


def _grants(client: Client, party_id: int = 9999) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = client.ok("/permission/query", {"party_id": party_id})["grants"]
    return grants


def test_grant_then_query_in_fates_shape(client: Client) -> None:
    data = client.ok(
        "/permission/grant", {"party_id": 9999, "component": "reader,HeteroLR", "dataset": [T1, T2]}
    )
    assert data == {"added": 4}
    found = client.ok("/permission/query", {"party_id": 9999})
    assert found["component"] == ["heterolr", "reader"]
    assert found["dataset"] == [T1, T2]
    assert len(found["grants"]) == 4


def test_dataset_as_one_object_and_component_as_a_list(client: Client) -> None:
    client.ok("/permission/grant", {"party_id": 9999, "component": ["reader"], "dataset": T1})
    assert _grants(client) == [{"component": "reader", **T1}]


def test_defaults_grant_everything_and_regranting_is_not_an_error(client: Client) -> None:
    assert client.ok("/permission/grant", {"party_id": 9999}) == {"added": 1}
    assert client.ok("/permission/grant", {"party_id": 9999, "component": "*", "dataset": "*"}) == {
        "added": 0
    }
    assert _grants(client) == [{"component": "*", "namespace": "*", "name": "*"}]


def test_delete_removes_the_product_and_star_means_every_row(client: Client) -> None:
    client.ok("/permission/grant", {"party_id": 9999, "component": "reader,heterolr", "dataset": [T1, T2]})
    assert client.ok("/permission/delete", {"party_id": 9999, "component": "heterolr", "dataset": T1}) == {
        "deleted": 1
    }
    assert client.ok("/permission/delete", {"party_id": 9999, "component": "reader", "dataset": "*"}) == {
        "deleted": 2
    }
    assert _grants(client) == [{"component": "heterolr", **T2}]
    assert client.ok("/permission/delete", {"party_id": 9999}) == {"deleted": 1}
    assert _grants(client) == []


def test_unknown_module_is_101_naming_it(client: Client) -> None:
    res = client.post("/permission/grant", {"party_id": 9999, "component": "reader,dataio"})
    assert res["retcode"] == 101 and "'dataio'" in res["retmsg"], res
    assert _grants(client) == []


def test_party_id_is_required(client: Client) -> None:
    res = client.post("/permission/query", {})
    assert res["retcode"] == 101 and "party_id" in res["retmsg"], res


@pytest.mark.parametrize("party_id", [9999, 10000])
def test_grants_are_per_party(client: Client, party_id: int) -> None:
    client.ok("/permission/grant", {"party_id": party_id, "component": "reader"})
    other = 10000 if party_id == 9999 else 9999
    assert _grants(client, other) == []
