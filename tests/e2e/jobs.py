"""DSL and conf documents used by the end-to-end tests (FATE's §3.3 shapes)."""

from __future__ import annotations

from typing import Any


def psi_job(guest: int = 9999, host: int = 10000) -> tuple[dict[str, Any], dict[str, Any]]:
    dsl = {"components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {"module": "DataTransform", "input": {"data": {"data": ["reader_0.data"]}},
                             "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {"module": "Intersection", "input": {"data": {"data": ["data_transform_0.data"]}},
                           "output": {"data": ["data"]}},
    }}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": guest},
        "role": {"guest": [guest], "host": [host]},
        "job_parameters": {"common": {"task_cores": 1}},
        "component_parameters": {"role": {
            "guest": {"0": {"reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "experiment"}},
                            "data_transform_0": {"with_label": True, "label_name": "y"}}},
            "host": {"0": {"reader_0": {"table": {"name": "breast_hetero_host", "namespace": "experiment"}},
                           "data_transform_0": {"with_label": False}}},
        }},
    }
    return dsl, conf
