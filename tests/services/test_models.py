"""ModelService over SQLite: the pipeline model a successful job registers, deploy, predict DSL/conf, query."""

from __future__ import annotations

import pytest

from fedloom.errors import InvalidInput, NotFound
from fedloom.ids import Party
from fedloom.services.catalog import Services
from tests.services.conftest import psi_job


def _trained(services: Services) -> tuple[str, str]:
    dsl, conf = psi_job()
    res = services.jobs.submit(dsl, conf)
    [init] = services.jobs.query(job_id=res.job_id, is_initiator=True)
    services.models.job_ended(init, "failed")
    assert services.models.query(model_version=res.job_id) == []
    services.models.job_ended(init, "success")
    return res.model_id, res.model_version


def test_a_successful_job_registers_its_model_at_every_party(services: Services) -> None:
    model_id, version = _trained(services)
    rows = services.models.query(model_id, version)
    assert sorted((r.role, r.party_id, r.parent) for r in rows) == [
        ("guest", 9999, True),
        ("host", 10000, True),
    ]
    assert set(rows[0].components) == {"reader_0", "data_transform_0", "intersection_0"}


def test_deploy_makes_a_child_version_that_a_predict_job_may_use(services: Services) -> None:
    model_id, version = _trained(services)
    with pytest.raises(InvalidInput, match="has not been deployed yet"):
        services.models.deployed(model_id, version)
    child = services.models.deploy(model_id, version, ["reader_0", "data_transform_0"], None)
    assert child.model_id == model_id and child.model_version != version
    assert sorted(child.parties) == [Party("guest", 9999), Party("host", 10000)]
    assert services.models.deployed(model_id, child.model_version).parent_version == version
    assert set(services.models.predict_dsl(model_id, child.model_version)["components"]) == {
        "reader_0",
        "data_transform_0",
    }
    conf = services.models.predict_conf(model_id, child.model_version, "guest", 9999)
    assert conf["job_parameters"]["common"]["model_version"] == child.model_version
    with pytest.raises(InvalidInput, match="itself a deployed model"):
        services.models.deploy(model_id, child.model_version, None, None)


def test_deploy_refusals(services: Services) -> None:
    model_id, version = _trained(services)
    with pytest.raises(InvalidInput, match=r"cpn_list: \['nope'\] are not components"):
        services.models.deploy(model_id, version, ["nope"], None)
    with pytest.raises(InvalidInput, match="predict_dsl: component a refers to pipeline.x.model"):
        services.models.deploy(
            model_id, version, None, {"components": {"a": {"input": {"model": ["pipeline.x.model"]}}}}
        )
    with pytest.raises(NotFound):
        services.models.deploy(model_id, "no_version", None, None)
