"""DSL and runtime conf in, validated immutable JobPlan out (pure: no I/O, no database)."""

from fedloom.dsl._util import deep_merge
from fedloom.dsl.catalog import ComponentCatalog
from fedloom.dsl.conf import ROLES
from fedloom.dsl.convert import convert_conf_v1, convert_dsl_v1, v1_reader_names
from fedloom.dsl.dependency import dependency_view
from fedloom.dsl.graph import DATA_KEYS, ComponentNode, Ref
from fedloom.dsl.ids import model_id_for, new_job_id
from fedloom.dsl.job_parameters import DEFAULT_TIMEOUT, JobParameters, JobType
from fedloom.dsl.parser import parse_job
from fedloom.dsl.plan import JobPlan
from fedloom.dsl.predict import generate_predict_dsl, merge_predict_conf, predict_conf_template
from fedloom.ids import Party

__all__ = [
    "DATA_KEYS",
    "DEFAULT_TIMEOUT",
    "ROLES",
    "ComponentCatalog",
    "ComponentNode",
    "JobParameters",
    "JobPlan",
    "JobType",
    "Party",
    "Ref",
    "convert_conf_v1",
    "convert_dsl_v1",
    "deep_merge",
    "dependency_view",
    "generate_predict_dsl",
    "merge_predict_conf",
    "model_id_for",
    "new_job_id",
    "parse_job",
    "predict_conf_template",
    "v1_reader_names",
]
