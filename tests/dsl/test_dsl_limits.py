"""The DSL's bounds: component count, parties, nesting, party ids; and job parameters' upper bounds."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dsl_fakes import FakeCatalog

from fedloom.dsl import parse_job
from fedloom.dsl.limits import MAX_NESTING, MAX_PARTIES
from fedloom.errors import InvalidInput


def _refused(dsl: Any, conf: Any, catalog: FakeCatalog, *, max_components: int | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_job(dsl, conf, catalog, max_components=max_components)
    assert caught.value.retcode == 101
    return caught.value.message


def test_component_count_names_the_setting(lr_dsl: dict, lr_conf: dict, catalog: FakeCatalog) -> None:  # type: ignore[type-arg]
    count = len(lr_dsl["components"])
    parse_job(lr_dsl, lr_conf, catalog, max_components=count)
    message = _refused(lr_dsl, lr_conf, catalog, max_components=count - 1)
    assert "max_job_components" in message and str(count) in message


def test_party_count_is_bounded(lr_dsl: dict, lr_conf: dict, catalog: FakeCatalog) -> None:  # type: ignore[type-arg]
    lr_conf["role"]["host"] = list(range(20000, 20000 + MAX_PARTIES))
    assert f"at most {MAX_PARTIES}" in _refused(lr_dsl, lr_conf, catalog)


@pytest.mark.parametrize(
    "pid", [2**31, 10**5000, "9" * 5000, -1, True], ids=["2^31", "10^5000", "5000 nines", "-1", "true"]
)
def test_party_ids_are_bounded(lr_dsl: dict, lr_conf: dict, catalog: FakeCatalog, pid: Any) -> None:  # type: ignore[type-arg]
    lr_conf["role"]["host"] = [pid]
    assert "conf.role.host: party id" in _refused(lr_dsl, lr_conf, catalog)


def test_nesting_is_bounded(lr_dsl: dict, lr_conf: dict, catalog: FakeCatalog) -> None:  # type: ignore[type-arg]
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(MAX_NESTING + 5):
        inner["x"] = {}
        inner = inner["x"]
    lr_conf["component_parameters"]["common"]["hetero_lr_0"] = {"callback_param": deep}
    assert f"deeper than {MAX_NESTING}" in _refused(lr_dsl, lr_conf, catalog)


@pytest.mark.parametrize(
    "field, value",
    [
        ("auto_retries", 1_000_000),
        ("task_parallelism", 10**6),
        ("task_cores", 10**9),
        ("computing_partitions", 10**7),
        ("timeout", 10**12),
        ("auto_retry_delay", 1e9),
        ("spark_run", {"executor-cores": 10**6}),
        ("eggroll_run", {"eggroll.session.processors.per.node": 10**6}),
    ],
)
def test_job_parameters_have_upper_bounds(
    lr_dsl: dict,  # type: ignore[type-arg]
    lr_conf: dict,  # type: ignore[type-arg]
    catalog: FakeCatalog,
    field: str,
    value: Any,
) -> None:
    conf = copy.deepcopy(lr_conf)
    conf.setdefault("job_parameters", {}).setdefault("common", {})[field] = value
    assert f"conf.job_parameters.{field}" in _refused(lr_dsl, conf, catalog)


def test_a_large_fan_parses(catalog: FakeCatalog, lr_conf: dict) -> None:  # type: ignore[type-arg]
    comps: dict[str, Any] = {"reader_0": {"module": "Reader", "output": {"data": ["data"]}}}
    for i in range(2000):
        comps[f"dt_{i}"] = {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"]},
        }
    conf = {k: v for k, v in lr_conf.items() if k != "component_parameters"}
    plan = parse_job({"components": comps}, conf, catalog, max_components=10_000)
    assert len(plan.components) == 2001
