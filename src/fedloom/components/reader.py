"""Reader: binds a party's stored table (or an earlier job's output) into the job."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from fedloom.components.api import Component, Context, Params
from fedloom.errors import InvalidInput
from fedloom.paths import check_id

_ID_KINDS = {
    "name": "table_name",
    "namespace": "namespace",
    "job_id": "job_id",
    "component_name": "component_name",
    "data": "component_name",
}


class TableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    namespace: str | None = None
    job_id: str | None = None
    component_name: str | None = None
    data: str = "data"

    @field_validator("name", "namespace", "job_id", "component_name", "data")
    @classmethod
    def _id_format(cls, value: str | None, info: ValidationInfo) -> str | None:
        # These become path parts at the party: their format is checked before anything else.
        if value is None or value == "":
            return value
        field = str(info.field_name)
        try:
            return check_id(field, value, _ID_KINDS[field])
        except InvalidInput as exc:
            raise ValueError(exc.message) from None


class ReaderParams(Params):
    table: TableRef | None = None


reader = Component(
    "Reader",
    ReaderParams,
    description="Bind a stored table into the job.",
    provider="fate_flow",
    reads_table=True,
)


@reader.local()
@reader.host()
@reader.guest()
def read(ctx: Context[ReaderParams]) -> None:
    # The party's service checked the table named by `table` and bound it as input "table".
    frame = ctx.inputs.data("table")[0]
    ctx.outputs.set_data(frame)
    ctx.outputs.set_summary({"count": frame.count, "header": frame.header()})


SPEC = reader.spec()
