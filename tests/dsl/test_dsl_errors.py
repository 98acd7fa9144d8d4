"""Every invalid DSL or conf is refused with InvalidInput naming the component (or conf path) and field."""

from __future__ import annotations

from typing import Any

import pytest
from dsl_fakes import FakeCatalog

from fedloom.dsl import parse_job
from fedloom.errors import InvalidInput

Doc = dict[str, Any]
DELETE = object()


def put(doc: Doc, path: str, value: Any) -> Doc:
    """Set (or with DELETE remove) the value at a dotted path; "" replaces the whole document."""
    if not path:
        return value  # type: ignore[no-any-return]
    *parents, last = path.split(".")
    target = doc
    for key in parents:
        target = target.setdefault(key, {})
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


CPN = "components"
LR_PARAMS = "component_parameters.common.hetero_lr_0"
HOST_BLOCK = "component_parameters.role.host"

DSL_CASES = [
    ("", [], "dsl: must be a non-empty object, got a list"),
    (CPN, {}, 'dsl: "components" must be a non-empty object'),
    (f"{CPN}.hetero lr", {"module": "HeteroLR"}, 'component name "hetero lr" may only use letters'),
    (f"{CPN}.reader_0.module", DELETE, 'component reader_0: "module" is missing'),
    (
        f"{CPN}.hetero_lr_0.module",
        5,
        'component hetero_lr_0: "module" must be a module name like "HeteroLR", got 5',
    ),
    (f"{CPN}.hetero_lr_0.module", "HeteroLRR", 'component hetero_lr_0: unknown module "HeteroLRR"'),
    (f"{CPN}.intersection_0.input", [], "component intersection_0: input: must be an object, got a list"),
    (f"{CPN}.intersection_0.input.data", ["x"], "component intersection_0: input.data: must be an object"),
    (f"{CPN}.intersection_0.input.data.data", "data_transform_0.data", "input.data.data must be a list"),
    (
        f"{CPN}.evaluation_0.input.model",
        "hetero_lr_0.model",
        "component evaluation_0: input.model must be a list",
    ),
    (f"{CPN}.hetero_lr_0.input.modle", [], 'component hetero_lr_0: input has unknown key "modle"'),
    (f"{CPN}.reader_0.output", ["data"], "component reader_0: output: must be an object"),
    (f"{CPN}.reader_0.output.data", "data", "component reader_0: output.data must be a list, got a string"),
    (f"{CPN}.reader_0.output.tables", ["t"], 'component reader_0: output has unknown key "tables"'),
    (f"{CPN}.reader_0.output.data", ["data", "data"], "component reader_0: output.data lists an alias twice"),
    (
        f"{CPN}.hetero_lr_0.input.data.train_data",
        ["intersection_9.data"],
        'component hetero_lr_0: input.data.train_data refers to "intersection_9.data" '
        "but there is no component intersection_9",
    ),
    (
        f"{CPN}.hetero_lr_0.input.data.train_data",
        ["intersection_0.train"],
        'component hetero_lr_0: input.data.train_data refers to "intersection_0.train" '
        'but intersection_0.output.data is ["data"]',
    ),
    (
        f"{CPN}.evaluation_0.input.model",
        ["intersection_0.model"],
        'component evaluation_0: input.model refers to "intersection_0.model" '
        "but intersection_0 declares no output.model",
    ),
    (
        f"{CPN}.intersection_0.input.data.data",
        ["data_transform_0.model"],
        'input.data.data refers to "data_transform_0.model" but that is a model output of data_transform_0',
    ),
    (
        f"{CPN}.evaluation_0.input.model",
        ["data_transform_0.data"],
        'component evaluation_0: input.model refers to "data_transform_0.data" '
        "but that is a data output of data_transform_0",
    ),
    (
        f"{CPN}.evaluation_0.input.cache",
        ["intersection_0.cache"],
        'component evaluation_0: input.cache refers to "intersection_0.cache" '
        "but intersection_0 declares no output.cache",
    ),
    (
        f"{CPN}.intersection_0.input.data.data",
        ["reader_0"],
        "entry 'reader_0' must look like \"<component>.<alias>\"",
    ),
    (
        f"{CPN}.intersection_0.input.data.data",
        [7],
        "component intersection_0: input.data.data entry 7 must look",
    ),
    (
        f"{CPN}.intersection_0.input.data.data",
        ["hetero_lr_0.data"],
        "dsl: cycle intersection_0 -> hetero_lr_0 -> intersection_0",
    ),
    (f"{CPN}.evaluation_0.input.data.data", ["evaluation_0.data"], "dsl: cycle evaluation_0 -> evaluation_0"),
    (
        f"{CPN}.hetero_lr_0.input.model",
        ["pipeline.hetero_lr_0.model"],
        'component hetero_lr_0: input.model "pipeline.hetero_lr_0.model" names a deployed model',
    ),
    (
        f"{CPN}.evaluation_0.output.model",
        ["model"],
        "component evaluation_0: output.model declares 1 alias but Evaluation produces none",
    ),
    (f"{CPN}.reader_0.provider", "@1.0", 'component reader_0: provider must look like "<name>"'),
    (
        f"{CPN}.upload_0",
        {"module": "Upload"},
        "component upload_0: module Upload runs on local, none of which is a role of this job",
    ),
]

CONF_CASES = [
    ("", "x", "conf: must be an object, got a string"),
    ("dsl_version", 3, "conf.dsl_version: must be 2 (or 1 for a legacy conf), got 3"),
    ("dsl_version", True, "conf.dsl_version: must be 2"),
    ("role", DELETE, "conf.role: must be a non-empty object"),
    ("role.hots", [1], 'conf.role: unknown role "hots" (allowed: guest, host, arbiter, local)'),
    ("role.host", [], "conf.role.host: must be a non-empty list of party ids, got a list"),
    ("role.host", 10000, "conf.role.host: must be a non-empty list of party ids, got int"),
    ("role.host", ["abc"], "conf.role.host: party id 'abc' is not a non-negative integer"),
    ("role.host", [-1], "conf.role.host: party id -1 is not a non-negative integer"),
    ("role.host", [10000, "10000"], "conf.role.host: party 10000 is listed twice"),
    ("initiator", DELETE, "conf.initiator: must be an object, got null"),
    ("initiator.party_id", DELETE, 'conf.initiator: "party_id" is missing'),
    ("initiator.party_id", 1, "conf.initiator: party 1 is not in role.guest [9999]"),
    ("initiator.role", "local", 'conf.initiator: role "local" is not in conf.role'),
    (
        "component_parameters.common.hetero_lr_1",
        {},
        'conf.component_parameters.common: "hetero_lr_1" is not a component of the DSL',
    ),
    (
        f"{HOST_BLOCK}.0.readr_0",
        {},
        'conf.component_parameters.role.host."0": "readr_0" is not a component of the DSL',
    ),
    (
        f"{HOST_BLOCK}.1",
        {"reader_0": {}},
        'conf.component_parameters.role.host."1": position 1 is beyond role.host, which has 1 party',
    ),
    (f"{HOST_BLOCK}.0|3", {}, 'conf.component_parameters.role.host."0|3": position 3 is beyond role.host'),
    (f"{HOST_BLOCK}.first", {}, 'conf.component_parameters.role.host."first": index must be "all"'),
    (f"{HOST_BLOCK}.01", {}, 'conf.component_parameters.role.host."01": index must be'),
    ("component_parameters.role.hots", {}, 'conf.component_parameters.role: unknown role "hots"'),
    ("component_parameters.roles", {}, 'conf.component_parameters: unknown key "roles"'),
    (LR_PARAMS, 3, "conf.component_parameters.common.hetero_lr_0: parameters must be an object"),
    (
        f"{LR_PARAMS}.max_iterr",
        10,
        'component hetero_lr_0: parameter "max_iterr" is not a parameter of HeteroLR (guest 9999)',
    ),
    (
        f"{HOST_BLOCK}.0.hetero_lr_0",
        {"encrypt_param": {"key_length": "long"}},
        'component hetero_lr_0: parameter "encrypt_param.key_length": Input should be a valid integer',
    ),
    (
        f"{HOST_BLOCK}.0.data_transform_0.output_format",
        "csv",
        "component data_transform_0: parameter \"output_format\": Input should be 'dense' or 'sparse' "
        "(host 10000)",
    ),
    (
        "job_parameters.common.task_corez",
        4,
        'conf.job_parameters: "task_corez" is not a job parameter (guest 9999)',
    ),
    (
        "job_parameters.task_cores",
        4,
        'conf.job_parameters: unknown key "task_cores"; put values under "common"',
    ),
    (
        "job_parameters.common.task_cores",
        0,
        "conf.job_parameters.task_cores: Input should be greater than or equal to 1 (guest 9999)",
    ),
    (
        "job_parameters.role.arbiter.0.timeout",
        "soon",
        "conf.job_parameters.timeout: Input should be a valid integer",
    ),
    ("job_parameters.role.host.2", {}, 'conf.job_parameters.role.host."2": position 2 is beyond role.host'),
    (
        "job_parameters.role.host.0.job_type",
        "predict",
        'conf.job_parameters: job_type is "predict" for host 10000 but "train" for the initiator',
    ),
    (
        "job_parameters.common.job_type",
        "predict",
        'conf.job_parameters.common: job_type "predict" needs model_id and model_version '
        "(missing for guest 9999)",
    ),
    (
        "job_parameters.common.inheritance_info",
        {"job_id": "1", "component_list": ["reader_9"]},
        'conf.job_parameters.inheritance_info.component_list: no component "reader_9" in the DSL',
    ),
    (
        "role_parameters",
        {},
        'conf.role_parameters: a dsl_version 2 conf puts parameters under "component_parameters"',
    ),
    ("provider", 3, "conf.provider: must be an object, got int"),
    ("provider.common.hetero_lr_0", 3, 'conf.provider for hetero_lr_0 must look like "<name>"'),
    ("provider.common.lr_0", "fate", 'conf.provider.common: "lr_0" is not a component of the DSL'),
]


def _expect_invalid(dsl: Any, conf: Any, catalog: FakeCatalog, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_job(dsl, conf, catalog)
    assert expected in caught.value.message
    assert caught.value.retcode == 101


@pytest.mark.parametrize(("path", "value", "expected"), DSL_CASES, ids=[case[2][:60] for case in DSL_CASES])
def test_invalid_dsl(
    path: str, value: Any, expected: str, lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog
) -> None:
    _expect_invalid(put(lr_dsl, path, value), lr_conf, catalog, expected)


@pytest.mark.parametrize(("path", "value", "expected"), CONF_CASES, ids=[case[2][:60] for case in CONF_CASES])
def test_invalid_conf(
    path: str, value: Any, expected: str, lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog
) -> None:
    _expect_invalid(lr_dsl, put(lr_conf, path, value), catalog, expected)


def test_glm_refuses_guest_as_arbiter(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["role"]["arbiter"] = [9999]

    _expect_invalid(
        lr_dsl,
        lr_conf,
        catalog,
        "component hetero_lr_0: party 9999 is both guest and arbiter, which HeteroLR allows only "
        "when that party is also the only host (role.host is [10000])",
    )


def test_glm_refuses_shared_party_with_other_hosts(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["role"].update(host=[9999, 10000], arbiter=[9999])

    _expect_invalid(lr_dsl, lr_conf, catalog, "party 9999 is both guest and arbiter")


def test_glm_allows_one_party_playing_every_role(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_conf["role"] = {"guest": [9999], "host": [9999], "arbiter": [9999]}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.parties_of("hetero_lr_0") == [("guest", 9999), ("host", 9999), ("arbiter", 9999)]


def test_roles_absent_from_the_job_are_ignored_with_a_warning(
    sbt_dsl: Doc, sbt_conf: Doc, catalog: FakeCatalog
) -> None:
    sbt_conf["component_parameters"]["role"]["arbiter"] = {"0": {"evaluation_0": {"need_run": False}}}

    plan = parse_job(sbt_dsl, sbt_conf, catalog)

    assert (
        'conf.component_parameters.role.arbiter: ignored, "arbiter" is not a role of this job'
        in plan.warnings
    )


def test_unknown_data_key_only_warns(lr_dsl: Doc, lr_conf: Doc, catalog: FakeCatalog) -> None:
    lr_dsl["components"]["evaluation_0"]["input"]["data"] = {"score_data": ["hetero_lr_0.data"]}

    plan = parse_job(lr_dsl, lr_conf, catalog)

    assert plan.warnings == (
        "component evaluation_0: input.data.score_data is not a known data key "
        "(data, train_data, validate_data, test_data, eval_data)",
    )
