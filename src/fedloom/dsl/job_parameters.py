"""Job parameters (FATE's RunParameters) for each party: common ⊕ role blocks, typed and checked."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fedloom.dsl._util import deep_merge, fail
from fedloom.dsl.conf import RoleTable, ScopedSection
from fedloom.ids import Party

JobType = Literal["train", "predict"]
DEFAULT_TIMEOUT = 259200  # 3 days, FATE's job_default_config.job_timeout
# Upper bounds: a job asks for no more than a server can give; each error names its field.
MAX_TASK_CORES = 65536  # larger than any machine; the party's own total is checked at submit
MAX_TASK_PARALLELISM = 128
MAX_COMPUTING_PARTITIONS = 4096
MAX_TIMEOUT = 30 * 24 * 3600  # 30 days
MAX_AUTO_RETRIES = 10
MAX_AUTO_RETRY_DELAY = 3600
MAX_ENGINE_CORES = 1024  # cores/processors/executors in eggroll_run, spark_run
MAX_ENGINE_NUMBER = 2**31 - 1  # any other number in the *_run engine options
_CORE_WORDS = ("core", "processor", "executor", "instance", "parallelism")
# Keys older FATE versions read; FATE 1.11 accepts them with a warning and ignores them.
DEPRECATED_KEYS = (
    "work_mode",
    "backend",
    "processors_per_node",
    "task_nodes",
    "task_cores_per_node",
    "task_memory_per_node",
    "align_task_input_data_partition",
    "input_data_aligned_partitions",
    "federated_data_exchange_type",
)


class JobParameters(BaseModel):
    """One party's job parameters. None means "the server's default" (from Settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    job_type: JobType = "train"
    task_cores: int | None = Field(default=None, ge=1, le=MAX_TASK_CORES)
    # FATE's meaning and default (1): tasks of this job running at once at this party.
    task_parallelism: int | None = Field(default=None, ge=1, le=MAX_TASK_PARALLELISM)
    computing_partitions: int | None = Field(default=None, ge=1, le=MAX_COMPUTING_PARTITIONS)
    timeout: int = Field(default=DEFAULT_TIMEOUT, ge=1, le=MAX_TIMEOUT)
    auto_retries: int = Field(default=0, ge=0, le=MAX_AUTO_RETRIES)
    # Stored for FATE compatibility; FATE 1.11 does not use it either (retries start at once).
    auto_retry_delay: int = Field(default=1, ge=0, le=MAX_AUTO_RETRY_DELAY)
    model_id: str | None = None
    model_version: str | None = None
    eggroll_run: dict[str, Any] = Field(default_factory=dict)
    spark_run: dict[str, Any] = Field(default_factory=dict)
    rabbitmq_run: dict[str, Any] = Field(default_factory=dict)
    pulsar_run: dict[str, Any] = Field(default_factory=dict)
    federated_mode: Literal["SINGLE", "MULTIPLE"] | None = None
    federated_status_collect_type: Literal["PUSH", "PULL"] = "PUSH"
    computing_engine: str | None = None
    federation_engine: str | None = None
    storage_engine: str | None = None
    engines_address: dict[str, Any] = Field(default_factory=dict)
    federation_info: dict[str, Any] | None = None
    adaptation_parameters: dict[str, Any] = Field(default_factory=dict)
    inheritance_info: dict[str, Any] = Field(default_factory=dict)
    task_conf: dict[str, Any] = Field(default_factory=dict)
    assistant_role: str | None = None
    map_table_name: str | None = None
    map_namespace: str | None = None
    dsl_version: int | None = Field(default=None, ge=1, le=2)

    @field_validator("eggroll_run", "spark_run", "rabbitmq_run", "pulsar_run")
    @classmethod
    def _engine_numbers(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_engine_numbers(value, "")
        return value

    @field_validator("model_id", "model_version", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Job ids are digit strings; clients sometimes send model_version as a JSON number.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_engine_numbers(value: Any, where: str) -> None:
    """Numbers in engine options are finite and bounded; core counts by MAX_ENGINE_CORES."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        path = f"{where}.{key}" if where else str(key)
        if isinstance(item, (dict, list)):
            _check_engine_numbers(item, path)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            cores = any(word in str(key).lower() for word in _CORE_WORDS)
            bound = MAX_ENGINE_CORES if cores else MAX_ENGINE_NUMBER
            if not -bound <= item <= bound:  # NaN fails this too
                shown = item if isinstance(item, float) or item.bit_length() <= 64 else "a huge number"
                raise ValueError(f"{path} must be a finite number of magnitude at most {bound}, got {shown}")


def build_job_parameters(
    section: ScopedSection, roles: RoleTable
) -> tuple[dict[Party, JobParameters], list[str]]:
    """Every party's JobParameters, plus warnings for deprecated keys."""
    result: dict[Party, JobParameters] = {}
    deprecated: set[str] = set()
    for party in roles.parties():
        merged = _merged(section, roles, party)
        deprecated.update(key for key in DEPRECATED_KEYS if key in merged)
        cleaned = {key: value for key, value in merged.items() if key not in DEPRECATED_KEYS}
        result[party] = _validated(cleaned, party)
    warnings = [
        f'[WARN] conf.job_parameters: "{key}" is no longer used and is ignored' for key in sorted(deprecated)
    ]
    return result, warnings


def _merged(section: ScopedSection, roles: RoleTable, party: Party) -> dict[str, Any]:
    position = roles.position(party.role, party.party_id)
    assert position is not None  # parties() only yields listed parties
    merged: dict[str, Any] = {}
    for layer in section.layers(party.role, position):
        merged = deep_merge(merged, layer)
    return merged


def _validated(values: dict[str, Any], party: Party) -> JobParameters:
    try:
        return JobParameters.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            fail(f'conf.job_parameters: "{field}" is not a job parameter ({party.role} {party.party_id})')
        fail(f"conf.job_parameters.{field}: {error['msg']} ({party.role} {party.party_id})")
