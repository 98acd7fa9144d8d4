"""The `fedloom` command: global options, the command groups, and the entry point."""

from __future__ import annotations

import os
from typing import Annotated

import httpx
import typer

import fedloom
from fedloom.cli._common import CliState, JsonOpt, state, wants_json
from fedloom.cli._errors import FedloomGroup
from fedloom.cli._output import kv_table, print_json
from fedloom.cli.audit import audit
from fedloom.cli.certs import certs_app
from fedloom.cli.data import data_app, table_app
from fedloom.cli.demo import demo
from fedloom.cli.job import job_app, task_app
from fedloom.cli.model import model_app
from fedloom.cli.permission import permission_app
from fedloom.cli.server import server_app
from fedloom.cli.tracking import component_app, tracking_app
from fedloom.client import DEFAULT_SERVER
from fedloom.client.http import APP_KEY_ENV, SECRET_KEY_ENV

app = typer.Typer(
    cls=FedloomGroup,
    name="fedloom",
    help="fedloom: federated learning pipelines, FATE-Flow v1 compatible.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(server_app, name="server")
app.add_typer(data_app, name="data")
app.add_typer(table_app, name="table")
app.add_typer(job_app, name="job")
app.add_typer(task_app, name="task")
app.add_typer(tracking_app, name="tracking")
app.add_typer(component_app, name="component")
app.add_typer(model_app, name="model")
app.add_typer(certs_app, name="certs")
app.add_typer(permission_app, name="permission")
app.command("audit")(audit)
app.command("demo")(demo)


@app.callback()
def root(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option("--server", help=f"Server URL (env FEDLOOM_SERVER, default {DEFAULT_SERVER})."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Raw JSON output for every command.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="HTTP timeout in seconds.")] = 60.0,
    app_key: Annotated[
        str | None,
        typer.Option(
            "--app-key", envvar=APP_KEY_ENV, help="Sign requests with this app key (env FEDLOOM_APP_KEY)."
        ),
    ] = None,
    secret_key: Annotated[
        str | None,
        typer.Option(
            "--secret-key",
            envvar=SECRET_KEY_ENV,
            show_default=False,
            help="Secret of the app key (env FEDLOOM_SECRET_KEY; prefer the env, the command line is visible).",
        ),
    ] = None,
) -> None:
    """Global options; tests may pass an httpx transport as the context object."""
    transport = ctx.obj if isinstance(ctx.obj, httpx.BaseTransport) else None
    url = server or os.environ.get("FEDLOOM_SERVER") or DEFAULT_SERVER
    if bool(app_key) != bool(secret_key):
        raise typer.BadParameter(
            "--app-key and --secret-key go together", param_hint="--app-key/--secret-key"
        )
    cli = CliState(
        server=url,
        as_json=as_json,
        timeout=timeout,
        transport=transport,
        app_key=app_key,
        secret_key=secret_key,
    )
    ctx.obj = cli
    ctx.call_on_close(cli.close)


@app.command("version")
def version(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The client's version and the server's (exit 3 when the server does not answer)."""
    cli = state(ctx)
    report = {
        "client": fedloom.__version__,
        "fate_compat": fedloom.FATE_COMPAT_VERSION,
        "server_url": cli.server,
    }
    server = cli.client().version()
    if wants_json(ctx, as_json):
        print_json({**report, "server": server})
    else:
        cli.out.print(kv_table({**report, **{f"server {k}": v for k, v in server.items()}}, title="fedloom"))


def main() -> None:
    """Console-script entry point (`fedloom = "fedloom.cli.main:main"`)."""
    app(prog_name="fedloom")


__all__ = ["app", "main"]
