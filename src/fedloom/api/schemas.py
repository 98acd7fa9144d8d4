"""Request bodies of the v1 API. Unknown keys are ignored: FATE clients send many (conf_path, local...).

Every id that may become part of a server path is checked against its format here, at the boundary
(`fedloom.paths.check_id`), and every number that sizes work has an upper bound; both errors name the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

from fedloom.errors import InvalidInput
from fedloom.paths import MAX_PARTY_ID, check_id

MAX_ROWS = 10_000  # rows a preview or a list returns at most
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
    limit: int = Field(0, le=MAX_ROWS)
    page: int = Field(1, le=MAX_PAGE)
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
