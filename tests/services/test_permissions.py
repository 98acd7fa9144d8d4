"""PermissionService over a real SQLite store: grants as a product, revokes, FATE's query shape, the check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fedloom.errors import InvalidInput, PermissionDenied
from fedloom.ids import Party
from fedloom.services.permissions import PermissionService
from fedloom.store import open_stores

HOST = Party("host", 10000)
GUEST_PARTY = 9999
T1, T2 = ("experiment", "breast_hetero_host"), ("experiment", "other")


@pytest.fixture()
def perms(tmp_path: Path) -> Iterator[PermissionService]:
    stores = open_stores(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield PermissionService(stores.permissions)
    stores.close()


def test_grant_stores_the_product_of_components_and_datasets(perms: PermissionService) -> None:
    assert perms.grant(GUEST_PARTY, ["Reader", "heterolr"], [T1, T2]) == 4
    found = perms.query(GUEST_PARTY)
    assert found["component"] == ["heterolr", "reader"]
    assert found["dataset"] == [
        {"namespace": "experiment", "name": "breast_hetero_host"},
        {"namespace": "experiment", "name": "other"},
    ]
    assert len(found["grants"]) == 4
    assert {"component": "reader", "namespace": "experiment", "name": "other"} in found["grants"]


def test_granting_again_is_not_an_error(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["heterolr"], [T1])
    assert perms.grant(GUEST_PARTY, ["HeteroLR", "heterolr"], [T1, T1]) == 0
    assert len(perms.query(GUEST_PARTY)["grants"]) == 1


def test_defaults_are_wildcards(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, None, None)
    assert perms.query(GUEST_PARTY)["grants"] == [{"component": "*", "namespace": "*", "name": "*"}]


def test_unknown_module_is_refused_by_name_and_nothing_is_stored(perms: PermissionService) -> None:
    with pytest.raises(InvalidInput, match="'dataio'"):
        perms.grant(GUEST_PARTY, ["reader", "dataio"], [T1])
    assert perms.query(GUEST_PARTY)["grants"] == []


@pytest.mark.parametrize("table", [("../etc", "x"), ("ns", "a/b"), (".hidden", "x"), ("ns", "")])
def test_bad_table_ids_are_refused(perms: PermissionService, table: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput):
        perms.grant(GUEST_PARTY, ["reader"], [table])
    assert perms.query(GUEST_PARTY)["grants"] == []


def test_bad_party_id_is_refused(perms: PermissionService) -> None:
    with pytest.raises(InvalidInput, match="party_id"):
        perms.grant(-1, None, None)


def test_revoke_removes_exactly_the_product(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["reader", "heterolr"], [T1, T2])
    assert perms.revoke(GUEST_PARTY, ["heterolr"], [T1]) == 1
    grants = perms.query(GUEST_PARTY)["grants"]
    assert {"component": "heterolr", "namespace": T1[0], "name": T1[1]} not in grants
    assert len(grants) == 3


def test_revoke_with_wildcards_removes_every_matching_row(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["reader", "heterolr"], [T1, T2])
    perms.grant(GUEST_PARTY, ["heterolr"], None)
    assert perms.revoke(GUEST_PARTY, ["heterolr"], None) == 3  # every dataset row of heterolr
    assert perms.query(GUEST_PARTY)["component"] == ["reader"]
    assert perms.revoke(GUEST_PARTY, None, [T1]) == 1  # every component on T1
    assert perms.revoke(GUEST_PARTY, None, None) == 1
    assert perms.query(GUEST_PARTY)["grants"] == []


def test_check_passes_with_exact_and_wildcard_grants(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["reader"], [T1])
    perms.grant(GUEST_PARTY, ["heterolr"], None)
    perms.check_job(GUEST_PARTY, HOST, ["Reader", "HeteroLR"], [T1])
    assert perms.allowed(GUEST_PARTY, ["reader", "heterolr"], [T1])


def test_check_names_the_first_missing_grant_and_how_to_grant_it(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["reader"], [T1])
    with pytest.raises(PermissionDenied) as err:
        perms.check_job(GUEST_PARTY, HOST, ["reader", "heterolr"], [T1])
    assert err.value.retcode == 108
    assert err.value.message == (
        "permission check failed at host 10000: party 9999 may not run heterolr on table "
        "experiment.breast_hetero_host (grant it: fedloom permission grant --party-id 9999 "
        "--component heterolr --dataset experiment:breast_hetero_host)"
    )
    assert err.value.data == {"code": 3, "message": err.value.message}


def test_check_is_per_table(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["reader"], [T1])
    with pytest.raises(PermissionDenied, match="experiment.other"):
        perms.check_job(GUEST_PARTY, HOST, ["reader"], [T1, T2])


def test_check_is_per_source_party(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, None, None)
    assert perms.allowed(GUEST_PARTY, ["heterolr"], [T1])
    assert not perms.allowed(8888, ["heterolr"], [T1])


def test_check_without_tables_needs_some_grant_per_module(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["evaluation"], [T2])
    perms.check_job(GUEST_PARTY, HOST, ["evaluation"], [])
    with pytest.raises(PermissionDenied) as err:
        perms.check_job(GUEST_PARTY, HOST, ["evaluation", "heterolr"], [])
    assert (
        "may not run heterolr (grant it: fedloom permission grant --party-id 9999 --component heterolr)"
        in (err.value.message)
    )
    assert err.value.data["code"] == 2


def test_namespace_wildcard_grants_cover_every_table(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, None, None)
    perms.check_job(GUEST_PARTY, HOST, ["reader", "heterolr"], [T1, T2, ("x", "y")])


def test_a_revoke_holds_for_the_next_check(perms: PermissionService) -> None:
    perms.grant(GUEST_PARTY, ["heterolr"], [T1])
    assert perms.allowed(GUEST_PARTY, ["heterolr"], [T1])
    perms.revoke(GUEST_PARTY, ["heterolr"], [T1])
    assert not perms.allowed(GUEST_PARTY, ["heterolr"], [T1])


def test_no_modules_is_always_allowed(perms: PermissionService) -> None:
    perms.check_job(GUEST_PARTY, HOST, [], [T1])
