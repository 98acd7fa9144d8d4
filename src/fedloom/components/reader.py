"""Reader: binds a party's stored table (or an earlier job's output) into the job."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from fedloom.components.api import ComponentSpec, Context, Params


class TableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    namespace: str | None = None
    job_id: str | None = None
    component_name: str | None = None
    data: str = "data"


class ReaderParams(Params):
    table: TableRef | None = None


def run(ctx: Context) -> None:
    # The worker resolved `table` (after the party's permission check) and bound it as input "table".
    frame = ctx.inputs.data("table")[0]
    ctx.outputs.set_data(frame)
    ctx.outputs.set_summary({"count": frame.count, "header": frame.header()})


SPEC = ComponentSpec(
    module="Reader",
    roles=frozenset({"guest", "host", "local"}),
    params=ReaderParams,
    run=run,
    description="Bind a stored table into the job.",
    provider="fate_flow",
)
