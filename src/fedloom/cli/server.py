"""`fedloom server start|stop|status|keygen`: run a server, stop it, ask about it, make a client key."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from fedloom.api.guard import check_exposure
from fedloom.cli import _runtime
from fedloom.cli._common import JsonOpt, state, wants_json
from fedloom.cli._errors import EXIT_UNREACHABLE
from fedloom.cli._output import kv_table, print_json
from fedloom.client.errors import ApiError
from fedloom.config import load_settings

server_app = typer.Typer(help="Start, stop and check a fedloom server.", no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Settings file (YAML).")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Tables, models, logs, database.")]


@server_app.command("start")
def start(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="HTTP port (default 9380).")] = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run a server in the foreground until Ctrl-C or `fedloom server stop`."""
    settings = load_settings(config, host=host, port=port, data_dir=data_dir)
    check_exposure(settings)
    server = _runtime.server_module()
    auth = "signed requests required" if settings.auth_enabled else "no authentication, loopback only"

    def ready() -> None:  # printed once the data dir is ours: a refused start prints only its error
        state(ctx).err.print(
            f"fedloom server on {escape(settings.base_url)} ({auth}), "
            f"data in {escape(str(settings.resolved_data_dir))}"
        )
        if settings.cluster:
            where = f"{settings.federation_host or settings.host}:{settings.federation_port}"
            partners = ", ".join(str(p) for p in sorted(settings.routes)) or "none"
            state(ctx).err.print(
                f"cluster mode: parties {settings.party_ids}; federation on {escape(where)} "
                f"(mutual TLS); partners {partners}"
            )

    try:
        server.serve(settings, on_ready=ready)
    except KeyboardInterrupt:
        state(ctx).err.print("stopped")


@server_app.command("stop")
def stop(
    ctx: typer.Context, data_dir: DataDirOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Stop the server that runs on DATA_DIR (SIGTERM, then wait)."""
    directory = load_settings(config, data_dir=data_dir).run_dir
    stopped = _runtime.server_module().stop(directory)
    if wants_json(ctx, as_json):
        print_json({"stopped": stopped, "data_dir": str(directory)})
    else:
        message = "server stopped" if stopped else "no server was running"
        state(ctx).out.print(f"{message} ({escape(str(directory))})")


@server_app.command("status")
def status(
    ctx: typer.Context, data_dir: DataDirOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Whether a server runs on DATA_DIR, and whether it answers (exit 3 when it does not run)."""
    directory = load_settings(config, data_dir=data_dir).run_dir
    info: dict[str, Any] | None = _runtime.server_module().status(directory)
    report: dict[str, Any] = {"running": info is not None, "data_dir": str(directory), **(info or {})}
    if info is not None:
        report["version"] = _probe(ctx, f"http://{info.get('host', '127.0.0.1')}:{info.get('port', 9380)}")
    if wants_json(ctx, as_json):
        print_json(report)
    else:
        state(ctx).out.print(kv_table(report, title="fedloom server"))
    if info is None:
        raise typer.Exit(EXIT_UNREACHABLE)


@server_app.command("keygen")
def keygen(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Create a new client key pair (app_key + secret_key) and print how to configure it.

    The same pair goes to the server (settings file or env) and to every client: fedloom's
    --app-key/--secret-key (or env) and fate-client's `flow init --app-key K --secret-key S`.
    """
    app_key = secrets.token_hex(16)
    secret_key = secrets.token_urlsafe(32)
    if wants_json(ctx, as_json):
        print_json({"app_key": app_key, "secret_key": secret_key})
        return
    out = state(ctx).out
    out.soft_wrap = True  # each line must stay copyable
    out.print(f"app_key:    {app_key}\nsecret_key: {secret_key}\n")
    out.print("# in the server's settings file (fedloom server start --config FILE):")
    out.print(f"app_key: {app_key}\nsecret_key: {secret_key}\n")
    out.print("# or in the environment (server and fedloom CLI/SDK read the same variables):")
    out.print(f"export FEDLOOM_APP_KEY={app_key}\nexport FEDLOOM_SECRET_KEY={secret_key}\n")
    out.print("# fate-client:")
    out.print(f"flow init --ip HOST --port PORT --app-key {app_key} --secret-key {secret_key}")
    state(ctx).err.print("Keep the secret key private: anyone holding it can drive this server.")


def _probe(ctx: typer.Context, url: str) -> Any:
    try:
        with state(ctx).connect(url, 5.0) as client:
            return client.version()
    except ApiError as exc:
        return f"not answering: {exc.message}"


__all__ = ["server_app"]
