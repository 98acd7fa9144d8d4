"""`fedloom demo`: an embedded server, the demo tables, one federated job, its results, next steps."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from fedloom.cli import _runtime
from fedloom.cli._common import CliState, state
from fedloom.cli._demo_results import print_evaluation, print_results
from fedloom.cli._watch import watch_job
from fedloom.client import FedloomClient, Pipeline, hetero_lr_pipeline, psi_pipeline
from fedloom.client.errors import ApiError
from fedloom.client.pipeline import Table
from fedloom.config import load_settings
from fedloom.errors import OperationFailed

GUEST, HOST, ARBITER = 9999, 10000, 10000
NAMESPACE = "experiment"
GUEST_TABLE, HOST_TABLE = "breast_hetero_guest", "breast_hetero_host"


def _psi(guest_table: Table, host_table: Table) -> Pipeline:
    return psi_pipeline(GUEST, HOST, guest_table, host_table)


def _hetero_lr(guest_table: Table, host_table: Table) -> Pipeline:
    return hetero_lr_pipeline(
        GUEST,
        HOST,
        ARBITER,
        guest_table,
        host_table,
        batch_size=-1,
        learning_rate=0.05,
        init_param={"init_method": "zeros"},
        encrypt_param={"method": "Paillier", "key_length": 1024},
    )


# The job the demo runs: the full Hetero LR pipeline; it prints AUC/KS next to a scikit-learn baseline.
DEMO_PIPELINE: Callable[[Table, Table], Pipeline] = _hetero_lr


def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Default: a temporary directory.")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary data directory.")] = False,
) -> None:
    """Run a two-party federated job end to end on this machine, then show where to look next."""
    console = state(ctx).out
    temporary = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="fedloom-demo-")) if data_dir is None else data_dir.resolve()
    try:
        job_id = _run(state(ctx), directory)
        _next_steps(console, job_id, directory, kept=keep or not temporary)
    finally:
        if temporary and not keep:
            shutil.rmtree(directory, ignore_errors=True)


def _run(cli: CliState, directory: Path) -> str:
    console = cli.out
    settings = load_settings(None, host="127.0.0.1", port=0, data_dir=directory)
    console.print(f"[bold]1.[/] starting an embedded fedloom server (data in {escape(str(directory))})")
    with (
        _runtime.server_module().EmbeddedServer(settings) as server,
        cli.connect(server.url, 60.0) as client,
    ):
        console.print(f"   listening on {escape(server.url)}")
        files = _write_data(console, directory / "demo_data")
        _upload(console, client, files)
        pipeline = DEMO_PIPELINE((NAMESPACE, GUEST_TABLE), (NAMESPACE, HOST_TABLE))
        console.print(f"[bold]4.[/] submitting {' -> '.join(pipeline.components)}")
        submitted = pipeline.submit(client)
        watch_job(client, submitted.job_id, console)
        print_results(console, client, submitted.job_id, pipeline, ("guest", GUEST))
        if "evaluation_0" in pipeline.components:
            pooled = (files[GUEST_TABLE], files[HOST_TABLE])
            print_evaluation(console, client, submitted.job_id, ("guest", GUEST), pooled)
        console.print("[bold]6.[/] stopping the server")
        return submitted.job_id


def _write_data(console: Console, out_dir: Path) -> dict[str, Path]:
    console.print(f"[bold]2.[/] writing the demo data into {escape(str(out_dir))}")
    files = _by_stem(_runtime.write_demo(out_dir))
    missing = [name for name in (GUEST_TABLE, HOST_TABLE) if name not in files]
    if missing:
        raise OperationFailed(f"the demo data has no {', '.join(missing)} file (got {', '.join(files)})")
    return files


def _upload(console: Console, client: FedloomClient, files: dict[str, Path]) -> None:
    for name, role, party in ((GUEST_TABLE, "guest", GUEST), (HOST_TABLE, "host", HOST)):
        console.print(f"[bold]3.[/] uploading {name} ({role} {party}) as {NAMESPACE}/{name}")
        job_id = client.data.upload(files[name], NAMESPACE, name, drop=True)
        client.job.wait_success(job_id)
        with suppress(ApiError):  # the row count is cosmetic; the upload itself succeeded
            count = client.table.info(NAMESPACE, name).get("count")
            console.print(f"   {count} rows (upload job {escape(job_id)})")


def _by_stem(paths: Sequence[Path]) -> dict[str, Path]:
    return {Path(p).stem: Path(p) for p in paths}


def _next_steps(console: Console, job_id: str, directory: Path, *, kept: bool) -> None:
    start = f"fedloom server start --data-dir {directory}"
    keep_hint = (
        "rerun with --keep (or --data-dir DIR) to keep the job, then: fedloom server start --data-dir DIR"
    )
    lines = [
        "[bold]Next:[/] start a server on the demo's data, then look at the job from another terminal",
        f"  {start}" if kept else f"  {keep_hint}",
        f"  fedloom job query -j {job_id}",
        f"  fedloom task query -j {job_id}",
        f"  fedloom tracking metric-all -j {job_id} -c evaluation_0",
        f"  fedloom tracking metric-all -j {job_id} -r arbiter -p 10000 -c hetero_lr_0   (loss per iteration)",
        f"  fedloom tracking output-data -j {job_id} -c hetero_lr_0 -o ./out",
        f"  fedloom job log -j {job_id} -o ./logs",
        f"  data dir: {directory}" + ("" if kept else " (removed now)"),
    ]
    console.print("\n".join(escape(line) if i else line for i, line in enumerate(lines)), soft_wrap=True)


__all__ = ["DEMO_PIPELINE", "demo"]
