"""`fedloom model ...`: deploy a trained model and get its predict DSL and conf."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedloom.cli._common import JsonOpt, PartyOpt, RoleOpt, read_json_file, split_list, state, wants_json
from fedloom.cli._output import kv_table, print_json, print_or_write, records_table

model_app = typer.Typer(help="Deploy models; predict DSL and conf templates.", no_args_is_help=True)

ModelIdOpt = Annotated[str, typer.Option("--model-id", help="e.g. arbiter-10000#guest-9999#host-10000#model")]
ModelVersionOpt = Annotated[
    str, typer.Option("--model-version", help="The training job id, or a deployed version.")
]
MaybeOutOpt = Annotated[Path | None, typer.Option("-o", "--output-path", help="Write the file here.")]


@model_app.command("deploy")
def deploy(
    ctx: typer.Context,
    model_id: ModelIdOpt,
    model_version: ModelVersionOpt,
    cpn_list: Annotated[str | None, typer.Option("--cpn-list", help="Components to deploy: a,b,c.")] = None,
    dsl_path: Annotated[Path | None, typer.Option("--dsl-path", help="Your own predict DSL.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy a trained model; prints the new model version to predict with."""
    predict_dsl = read_json_file(dsl_path, "predict dsl") if dsl_path is not None else None
    data = state(ctx).client().model.deploy(model_id, model_version, split_list(cpn_list), predict_dsl)
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print(kv_table(data, title="deployed"))


@model_app.command("predict-dsl")
def predict_dsl(
    ctx: typer.Context,
    model_id: ModelIdOpt,
    model_version: ModelVersionOpt,
    output_path: MaybeOutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The predict DSL of a deployed model."""
    data = state(ctx).client().model.predict_dsl(model_id, model_version)
    print_or_write(ctx, as_json, data, output_path, "predict_dsl.json")


@model_app.command("predict-conf")
def predict_conf(
    ctx: typer.Context,
    model_id: ModelIdOpt,
    model_version: ModelVersionOpt,
    output_path: MaybeOutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A predict conf template (fill in the Reader tables, then `fedloom job submit -c`)."""
    data = state(ctx).client().model.predict_conf(model_id, model_version)
    print_or_write(ctx, as_json, data, output_path, "predict_conf.json")


@model_app.command("query")
def query(
    ctx: typer.Context,
    model_id: Annotated[str | None, typer.Option("--model-id")] = None,
    model_version: Annotated[str | None, typer.Option("--model-version")] = None,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered models."""
    records = state(ctx).client().model.query(model_id, model_version, role, party_id)
    if wants_json(ctx, as_json):
        print_json(records)
        return
    columns = ("model_id", "model_version", "role", "party_id", "parent", "create_time")
    state(ctx).out.print(records_table(records, columns))


__all__ = ["model_app"]
