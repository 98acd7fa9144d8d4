"""Request bodies of the v1 API. Unknown keys are ignored: FATE clients send many (conf_path, local...)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SubmitBody(Body):
    dsl: Any = Field(default=None, validation_alias=AliasChoices("job_dsl", "dsl"))
    conf: Any = Field(validation_alias=AliasChoices("job_runtime_conf", "runtime_conf"))


class JobIdBody(Body):
    job_id: str


class StopBody(JobIdBody):
    stop_status: str = "canceled"


class RerunBody(JobIdBody):
    component_name: str | list[str] | None = None
    force: bool = False


class JobQueryBody(Body):
    job_id: str | None = None
    role: str | None = None
    party_id: int | None = None
    status: str | None = None
    is_initiator: bool | None = None
    tag: str | None = None


class JobListBody(Body):
    limit: int = 0
    page: int = 1
    job_id: str | None = None
    description: str | None = None
    party_id: int | None = None
    role: str | list[str] | None = None
    status: str | list[str] | None = None
    order_by: str = "create_time"
    order: str = "desc"


class TaskQueryBody(Body):
    job_id: str | None = None
    role: str | None = None
    party_id: int | None = None
    component_name: str | None = None
    status: str | None = None
    task_id: str | None = None
    task_version: int | None = None
    party_status: str | None = None


class JobConfigBody(JobIdBody):
    role: str | None = None
    party_id: int | None = None


class JobUpdateBody(JobIdBody):
    role: str | None = None
    party_id: int | None = None
    notes: str = ""


class ParameterUpdateBody(JobIdBody):
    job_parameters: dict[str, Any] | None = None
    component_parameters: dict[str, Any] | None = None


class DslGenerateBody(Body):
    train_dsl: Any
    cpn_str: str | list[str] | None = None
    cpn_list: list[str] | None = None
    version: str = "2"
    filename: str | None = None


class DependencyBody(Body):
    job_id: str | None = None
    role: str
    party_id: int
    job_dsl: Any = None
    job_runtime_conf: Any = None


class ComponentBody(Body):
    job_id: str
    component_name: str
    role: str | None = None
    party_id: int | None = None
    limit: int = -1
    filename: str | None = None


class MetricDataBody(ComponentBody):
    metric_namespace: str
    metric_name: str


class TableBody(Body):
    namespace: str
    table_name: str = Field(validation_alias=AliasChoices("table_name", "name"))
    limit: int = 10


class TableListBody(Body):
    job_id: str
    role: str
    party_id: int


class UploadConf(Body):
    file: str = ""
    namespace: str
    table_name: str
    head: int = 1
    partition: int = 4
    id_delimiter: str = Field(",", validation_alias=AliasChoices("id_delimiter", "delimiter"))
    drop: int = 0
    extend_sid: bool = False
    id_column: str | None = None
    use_local_data: int = 1


class DownloadBody(Body):
    namespace: str
    table_name: str = Field(validation_alias=AliasChoices("table_name", "name"))
    output_path: str
    delimiter: str = ","


class HistoryBody(Body):
    job_id: str | None = None
    limit: int = 10


class DeployBody(Body):
    model_id: str
    model_version: str
    cpn_list: str | list[str] | None = None
    dsl: Any = None
    predict_dsl: Any = None


class ModelRefBody(Body):
    model_id: str
    model_version: str
    role: str | None = None
    party_id: int | None = None
    filename: str | None = None


class ModelQueryBody(Body):
    model_id: str | None = None
    model_version: str | None = None
    role: str | None = None
    party_id: int | None = None


class VersionBody(Body):
    module: str | None = None
