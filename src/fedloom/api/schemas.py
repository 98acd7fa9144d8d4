"""Request bodies of the v1 API. Unknown keys are ignored: FATE clients send many (conf_path, local...).

Every id that may become part of a server path is checked against its format here, at the boundary
(`fedloom.paths.check_id`), and every number that sizes work has an upper bound; both errors name the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from fedloom.errors import InvalidInput
from fedloom.paths import MAX_PARTY_ID, check_id
from fedloom.services._json import MAX_ROWS

MAX_PARTITIONS = 1024
MAX_PAGE = 1_000_000
MAX_TEXT = 4096  # server paths, delimiters, free-text filters
# A file name echoed in a Content-Disposition header: no separators, quotes or control characters.
_FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}")


def _ids(field: str, kind: str | None = None) -> AfterValidator:
    def check(value: str | None) -> str | None:
        return None if value is None else check_id(field, value, kind)

    return AfterValidator(check)


def _id_list(field: str) -> AfterValidator:
    def check(value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list):
            return [check_id(field, v, field) for v in value]
        return None if value is None else check_id(field, value, field)

    return AfterValidator(check)


def _file_name(value: str | None) -> str | None:
    if value is not None and _FILE_NAME.fullmatch(value) is None:
        shown = value if len(value) <= 80 else f"{value[:80]}..."
        raise InvalidInput(
            f"filename: {shown!r} is not a plain file name (letters, digits, '_', '-', '.', "
            "not starting with '.', at most 255)"
        )
    return value


JobId = Annotated[str, _ids("job_id")]
OptJobId = Annotated[str | None, _ids("job_id")]
ComponentName = Annotated[str, _ids("component_name")]
OptComponentName = Annotated[str | None, _ids("component_name")]
Role = Annotated[str, _ids("role")]
OptRole = Annotated[str | None, _ids("role")]
PartyId = Annotated[int, Field(ge=0, le=MAX_PARTY_ID)]
OptPartyId = Annotated[int | None, Field(ge=0, le=MAX_PARTY_ID)]
Namespace = Annotated[str, _ids("namespace")]
TableName = Annotated[str, _ids("table_name")]
ModelId = Annotated[str, _ids("model_id")]
OptModelId = Annotated[str | None, _ids("model_id")]
ModelVersion = Annotated[str, _ids("model_version")]
OptModelVersion = Annotated[str | None, _ids("model_version")]
FileName = Annotated[str | None, AfterValidator(_file_name)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


def as_list(value: str | list[str] | None) -> list[str] | None:
    """FATE fields that take one value or a list of them: a list (None stays None)."""
    return [value] if isinstance(value, str) else value


def split_names(value: str | list[str] | None) -> list[str] | None:
    """Component lists sent as `"a, b"` or `["a", "b"]`: the names, stripped, empty ones dropped."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return [name.strip() for name in items if name.strip()]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SubmitBody(Body):
    dsl: Any = Field(default=None, validation_alias=AliasChoices("job_dsl", "dsl"))
    conf: Any = Field(validation_alias=AliasChoices("job_runtime_conf", "runtime_conf"))


class JobIdBody(Body):
    job_id: JobId


class StopBody(JobIdBody):
    stop_status: str = "canceled"


class RerunBody(JobIdBody):
    component_name: Annotated[str | list[str] | None, _id_list("component_name")] = None
    force: bool = False


class JobQueryBody(Body):
    job_id: OptJobId = None
    role: OptRole = None
    party_id: OptPartyId = None
    status: str | None = None
    is_initiator: bool | None = None
    tag: str | None = None


class JobListBody(Body):
    limit: int = Field(0, ge=0, le=MAX_ROWS)  # 0: FATE's "all", at most MAX_ROWS
    page: int = Field(1, ge=1, le=MAX_PAGE)
    job_id: Annotated[str | None, Field(max_length=MAX_TEXT)] = None  # a LIKE filter, not an id
    description: Annotated[str | None, Field(max_length=MAX_TEXT)] = None
    party_id: OptPartyId = None
    role: str | list[str] | None = None
    status: str | list[str] | None = None
    order_by: str = "create_time"
    order: str = "desc"


class TaskQueryBody(Body):
    job_id: OptJobId = None
    role: OptRole = None
    party_id: OptPartyId = None
    component_name: OptComponentName = None
    status: str | None = None
    task_id: Annotated[str | None, Field(max_length=256)] = None
    task_version: Annotated[int | None, Field(ge=0, le=MAX_PAGE)] = None
    party_status: str | None = None


class JobConfigBody(JobIdBody):
    role: OptRole = None
    party_id: OptPartyId = None


class JobUpdateBody(JobIdBody):
    role: OptRole = None
    party_id: OptPartyId = None
    notes: Text = ""


class ParameterUpdateBody(JobIdBody):
    job_parameters: dict[str, Any] | None = None
    component_parameters: dict[str, Any] | None = None


class DslGenerateBody(Body):
    train_dsl: Any
    cpn_str: str | list[str] | None = None
    cpn_list: list[str] | None = None
    version: str = "2"
    filename: FileName = None


class DependencyBody(Body):
    job_id: OptJobId = None
    role: Role
    party_id: PartyId
    job_dsl: Any = None
    job_runtime_conf: Any = None


class ComponentBody(Body):
    job_id: JobId
    component_name: ComponentName
    role: OptRole = None
    party_id: OptPartyId = None
    limit: int = Field(-1, ge=-1, le=MAX_ROWS)
    filename: FileName = None


class MetricDataBody(ComponentBody):
    metric_namespace: Annotated[str, Field(max_length=256)]
    metric_name: Annotated[str, Field(max_length=256)]


class TableBody(Body):
    namespace: Namespace
    table_name: TableName = Field(validation_alias=AliasChoices("table_name", "name"))
    limit: int = Field(10, ge=0, le=MAX_ROWS)


class TableListBody(Body):
    job_id: JobId
    role: Role
    party_id: PartyId


class UploadConf(Body):
    file: Text = ""
    namespace: Namespace
    table_name: TableName
    head: int = Field(1, ge=0, le=1)
    partition: int = Field(4, ge=1, le=MAX_PARTITIONS)
    id_delimiter: str = Field(",", max_length=16, validation_alias=AliasChoices("id_delimiter", "delimiter"))
    drop: int = Field(0, ge=0, le=1)
    extend_sid: bool = False
    id_column: Annotated[str | None, Field(max_length=1024)] = None
    use_local_data: int = 1


class DownloadBody(Body):
    namespace: Namespace
    table_name: TableName = Field(validation_alias=AliasChoices("table_name", "name"))
    output_path: Text
    delimiter: str = Field(",", max_length=16)


class HistoryBody(Body):
    job_id: OptJobId = None
    limit: int = Field(10, ge=-1, le=MAX_ROWS)


class DeployBody(Body):
    model_id: ModelId
    model_version: ModelVersion
    cpn_list: str | list[str] | None = None
    dsl: Any = None
    predict_dsl: Any = None


class ModelRefBody(Body):
    model_id: ModelId
    model_version: ModelVersion
    role: OptRole = None
    party_id: OptPartyId = None
    filename: FileName = None


class ModelQueryBody(Body):
    model_id: OptModelId = None
    model_version: OptModelVersion = None
    role: OptRole = None
    party_id: OptPartyId = None


class VersionBody(Body):
    module: str | None = None


# ---- response bodies: FATE's field names and order ------------------------------------------------
class Answer(BaseModel):
    """A response body; `fate()` is the dict the envelope carries, `columns()` the `f_`-prefixed form
    of FATE's database rows (job/query, task/query, model/query)."""

    @classmethod
    def of(cls: type[A], row: object, **extra: Any) -> A:
        """The answer holding `row`'s attributes as they are (no coercion: the JSON shows what is stored)."""
        values = {name: getattr(row, name) for name in cls.model_fields if hasattr(row, name)}
        made = cls.model_construct(**{**values, **extra})
        assert isinstance(made, cls)  # the pydantic plugin types model_construct as the base class
        return made

    def fate(self) -> dict[str, Any]:
        return self.model_dump()

    def columns(self) -> dict[str, Any]:
        return {f"f_{k}": v for k, v in self.model_dump().items()}


A = TypeVar("A", bound=Answer)


class ModelInfo(Answer):
    model_id: str
    model_version: str


class SubmitAnswer(Answer):
    job_id: str
    code: int = 0
    message: str = "success"
    model_info: ModelInfo
    board_url: str
    logs_directory: str
    dsl_path: str = ""
    runtime_conf_path: str = ""
    runtime_conf_on_party_path: str = ""
    train_runtime_conf_path: str = ""
    pipeline_dsl_path: str = ""


class UploadAnswer(Answer):
    job_id: str
    code: int = 0
    message: str = "success"
    namespace: str
    table_name: str
    count: int
    partition: int
    model_info: ModelInfo
    board_url: str = ""
    logs_directory: str = ""
    dsl_path: str = ""
    runtime_conf_path: str = ""
    runtime_conf_on_party_path: str = ""
    train_runtime_conf_path: str = ""
    pipeline_dsl_path: str = ""


class JobRecord(Answer):
    job_id: str
    role: str
    party_id: int
    status: str
    is_initiator: bool
    initiator_role: str
    initiator_party_id: int
    tag: str
    description: str
    dsl: Any
    runtime_conf: Any
    runtime_conf_on_party: Any
    train_runtime_conf: Any
    roles: Any
    progress: int
    cancel_signal: bool
    cores: int
    resource_in_use: bool
    create_time: int | None
    update_time: int | None
    start_time: int | None
    end_time: int | None
    elapsed: int | None
    status_message: str
    status_code: None = None
    name: str = ""
    user_id: str = ""


class JobListRecord(JobRecord):
    partners: list[int]


class TaskRecord(Answer):
    job_id: str
    task_id: str
    task_version: int
    component_name: str
    component_module: str
    role: str
    party_id: int
    status: str
    party_status: str
    auto_retries: int | None
    run_pid: int | None
    run_ip: str | None
    error_report: str | None
    progress: int | None
    progress_message: str | None
    create_time: int | None
    update_time: int | None
    start_time: int | None
    end_time: int | None
    elapsed: int | None
    need_run: bool | None
    run_on_this_party: bool = True
    kill_status: bool | None
    busy_seconds: float | None


class ModelRecord(Answer):
    model_id: str
    model_version: str
    role: str
    party_id: int
    job_id: str
    parent: bool
    parent_info: dict[str, str]
    initiator_role: str
    initiator_party_id: int
    roles: Any
    train_dsl: Any
    train_runtime_conf: Any
    inference_dsl: Any
    loaded_times: int
    create_time: int | None


class JobConfigAnswer(Answer):
    job_id: str
    dsl: Any
    runtime_conf: Any
    train_runtime_conf: Any
    model_info: dict[str, Any]


# ---- permissions and the audit log (fedloom's own routes: unknown keys are refused) --------------

MAX_GRANT_COMPONENTS = 64
MAX_GRANT_DATASETS = 100
ANY = "*"


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _components(value: Any) -> list[str] | None:
    """`"a,b"`, `["a", "b"]` or `"*"` -> the names (None for every module); the registry check is the service's."""
    if value is None or value == ANY:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = split_names(value)
    elif isinstance(value, str) and len(value) <= MAX_TEXT:
        names = split_names(value)
    else:
        raise InvalidInput(
            "component: expected a comma-separated string of module names, a list of them, or '*'"
        )
    if not names:
        raise InvalidInput("component: no module named (use '*' for every module)")
    if len(names) > MAX_GRANT_COMPONENTS:
        raise InvalidInput(f"component: at most {MAX_GRANT_COMPONENTS} names, got {len(names)}")
    return None if ANY in names else names


def _table(item: Any, where: str) -> tuple[str, str]:
    if not isinstance(item, dict) or set(item) != {"namespace", "name"}:
        raise InvalidInput(f"{where}: expected an object with exactly the keys 'namespace' and 'name'")
    return (
        check_id(f"{where}.namespace", item["namespace"], "namespace"),
        check_id(f"{where}.name", item["name"], "table_name"),
    )


def _datasets(value: Any) -> list[tuple[str, str]] | None:
    """A list of `{namespace, name}`, one of them, or `"*"` -> the pairs (None for every table)."""
    if value is None or value == ANY:
        return None
    if isinstance(value, dict):
        return [_table(value, "dataset")]
    if not isinstance(value, list):
        raise InvalidInput("dataset: expected a list of {namespace, name}, one such object, or '*'")
    if not value:
        raise InvalidInput("dataset: no table named (use '*' for every table)")
    if len(value) > MAX_GRANT_DATASETS:
        raise InvalidInput(f"dataset: at most {MAX_GRANT_DATASETS} tables, got {len(value)}")
    return [_table(item, f"dataset[{i}]") for i, item in enumerate(value)]


class PermissionBody(StrictBody):
    party_id: PartyId
    component: Annotated[list[str] | None, BeforeValidator(_components)] = None
    dataset: Annotated[list[tuple[str, str]] | None, BeforeValidator(_datasets)] = None


class PermissionQueryBody(StrictBody):
    party_id: PartyId


class AuditQueryBody(StrictBody):
    job_id: OptJobId = None
    actor: Annotated[str | None, Field(max_length=128)] = None
    action: Annotated[str | None, Field(max_length=256)] = None  # a prefix: "POST /v1/permission"
    since: Annotated[int | None, Field(ge=0)] = None  # Unix time in ms
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
