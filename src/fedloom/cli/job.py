"""`fedloom job ...` and `fedloom task ...`: submit, inspect, control and watch jobs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from fedloom.cli._common import (
    JobIdOpt,
    JsonOpt,
    LimitOpt,
    MaybeComponentOpt,
    MaybeJobIdOpt,
    OutDirOpt,
    PartyOpt,
    RoleOpt,
    StatusOpt,
    read_json_file,
    split_list,
    state,
    wants_json,
)
from fedloom.cli._output import done, kv_table, print_json, print_or_write, records_table, rows_table
from fedloom.cli._watch import wait_json, watch_job
from fedloom.errors import InvalidInput

job_app = typer.Typer(help="Submit, inspect, stop, rerun and watch jobs.", no_args_is_help=True)
task_app = typer.Typer(help="Tasks: one component of one job at one party.", no_args_is_help=True)

JOB_COLUMNS = ("job_id", "role", "party_id", "is_initiator", "status", "progress", "elapsed")
TASK_COLUMNS = (
    "job_id",
    "component_name",
    "role",
    "party_id",
    "task_version",
    "status",
    "progress",
    "progress_message",
)
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Stop watching after N seconds.")]


@job_app.command("submit")
def submit(
    ctx: typer.Context,
    conf_path: Annotated[Path, typer.Option("-c", "--conf-path", help="Runtime conf (JSON).")],
    dsl_path: Annotated[Path | None, typer.Option("-d", "--dsl-path", help="DSL (omit for predict).")] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Show live progress until it ends.")] = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a job (FATE DSL v2 + runtime conf)."""
    conf = read_json_file(conf_path, "conf")
    dsl = read_json_file(dsl_path, "dsl") if dsl_path is not None else None
    cli = state(ctx)
    result = cli.client().job.submit(dsl, conf)
    if wants_json(ctx, as_json):
        if watch:
            wait_json(cli.client(), result.job_id, timeout=timeout, extra=asdict(result))
        else:
            print_json(asdict(result))
        return
    cli.out.print(kv_table(asdict(result), title="submitted"))
    if watch:
        watch_job(cli.client(), result.job_id, cli.out, timeout=timeout)
        cli.out.print(f"[green]job {escape(result.job_id)} succeeded[/]")
    else:
        cli.out.print(f"watch it with: fedloom job watch {escape(result.job_id)}")


@job_app.command("watch")
def watch(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id.")],
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Live progress per component until the job ends (exit 0 success, 1 failed/canceled/timeout)."""
    cli = state(ctx)
    if wants_json(ctx, as_json):
        wait_json(cli.client(), job_id, timeout=timeout)
        return
    watch_job(cli.client(), job_id, cli.out, timeout=timeout)
    cli.out.print(f"[green]job {escape(job_id)} succeeded[/]")


@job_app.command("query")
def query(
    ctx: typer.Context,
    job_id: MaybeJobIdOpt = None,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    status: StatusOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Job records (one per participating role and party)."""
    records = state(ctx).client().job.query(job_id=job_id, role=role, party_id=party_id, status=status)
    if wants_json(ctx, as_json):
        print_json(records)
    else:
        state(ctx).out.print(records_table(records, JOB_COLUMNS))


@job_app.command("parties")
def parties(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id.")],
    as_json: JsonOpt = False,
) -> None:
    """Every party's own view of a job, side by side (cluster mode: ask the initiator's server)."""
    views = state(ctx).client().job.parties(job_id)
    if wants_json(ctx, as_json):
        print_json(views)
        return
    # Parties are few and components many: one column per party, one row per component.
    labels = [
        f"{v.get('role')} {v.get('party_id')}" + ("" if v.get("served_here") else " (remote)") for v in views
    ]
    components = sorted({c for v in views for c in (v.get("tasks") or {})})
    rows = [["job", *(v.get("status", "") for v in views)]]
    rows += [[c, *((v.get("tasks") or {}).get(c, "-") for v in views)] for c in components]
    out = state(ctx).out
    out.print(rows_table(["component", *labels], rows, title=f"job {job_id}"))
    for label, v in zip(labels, views, strict=True):
        if v.get("status_message"):
            out.print(f"{escape(label)}: {escape(str(v['status_message'])[:300])}")


@job_app.command("list")
def list_jobs(
    ctx: typer.Context,
    limit: LimitOpt = 10,
    page: Annotated[int | None, typer.Option("--page", help="1-based page.")] = None,
    status: Annotated[list[str] | None, typer.Option("-s", "--status", help="Repeatable.")] = None,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest jobs."""
    data = state(ctx).client().job.list(limit=limit, page=page, status=status, role=role, party_id=party_id)
    if wants_json(ctx, as_json):
        print_json(data)
        return
    columns = ("job_id", "role", "party_id", "status", "progress", "partners", "elapsed", "description")
    title = f"{len(data.get('jobs', []))} of {data.get('count', 0)} jobs"
    state(ctx).out.print(records_table(data.get("jobs", []), columns, title=title))


@job_app.command("stop")
def stop(ctx: typer.Context, job_id: JobIdOpt, as_json: JsonOpt = False) -> None:
    """Cancel a job at every party."""
    data = state(ctx).client().job.stop(job_id)
    done(ctx, as_json, data, f"job {job_id} stopped")


@job_app.command("rerun")
def rerun(
    ctx: typer.Context,
    job_id: JobIdOpt,
    component: MaybeComponentOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Rerun even successful components.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rerun a job, or one component and everything downstream of it."""
    data = state(ctx).client().job.rerun(job_id, component_name=component, force=force)
    done(ctx, as_json, data, f"job {job_id} rerun requested; watch it with: fedloom job watch {job_id}")


@job_app.command("log")
def log(ctx: typer.Context, job_id: JobIdOpt, output_path: OutDirOpt, as_json: JsonOpt = False) -> None:
    """Download the job's logs into OUTPUT_PATH/job_<id>_log/."""
    path = state(ctx).client().job.log_download(job_id, output_path)
    done(ctx, as_json, {"path": str(path)}, f"logs written to {path}")


@job_app.command("config")
def config(
    ctx: typer.Context,
    job_id: JobIdOpt,
    output_path: OutDirOpt,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the job's dsl, runtime conf, train conf and model info into OUTPUT_PATH/job_<id>_config/."""
    data = state(ctx).client().job.config(job_id, role, party_id)
    dest = output_path / f"job_{job_id}_config"
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for key, value in data.items():
        if key == "job_id":
            continue
        target = dest / f"{key}.json"
        target.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        written.append(str(target))
    done(ctx, as_json, {"path": str(dest), "files": written}, f"wrote {len(written)} files into {dest}")


@job_app.command("dsl")
def dsl(
    ctx: typer.Context,
    train_dsl: Annotated[Path, typer.Option("--train-dsl", "--train-dsl-path", help="Training DSL.")],
    cpn_list: Annotated[str, typer.Option("--cpn-list", help="Components to keep: a,b,c.")],
    output_path: Annotated[Path | None, typer.Option("-o", "--output-path", help="Write here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate the predict DSL of a training DSL."""
    components = split_list(cpn_list) or []
    if not components:
        raise InvalidInput("--cpn-list: name at least one component")
    predict = state(ctx).client().job.dsl_generate(read_json_file(train_dsl, "train dsl"), components)
    print_or_write(ctx, as_json, predict, output_path, "predict_dsl.json")


@job_app.command("parameter-update")
def parameter_update(
    ctx: typer.Context,
    job_id: JobIdOpt,
    conf_path: Annotated[
        Path, typer.Option("-c", "--conf-path", help="job_parameters/component_parameters.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Merge new parameters into a job (then `fedloom job rerun --force -c X`)."""
    conf = read_json_file(conf_path, "conf")
    data = (
        state(ctx)
        .client()
        .job.parameter_update(job_id, conf.get("job_parameters"), conf.get("component_parameters"))
    )
    done(ctx, as_json, data, f"parameters of job {job_id} updated")


@task_app.command("query")
def task_query(
    ctx: typer.Context,
    job_id: MaybeJobIdOpt = None,
    role: RoleOpt = None,
    party_id: PartyOpt = None,
    component: MaybeComponentOpt = None,
    status: StatusOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Task records (latest version per component, role and party)."""
    records = state(ctx).client().task.query(job_id, role, party_id, component, status)
    if wants_json(ctx, as_json):
        print_json(records)
    else:
        columns = [c for c in TASK_COLUMNS if not (job_id and c == "job_id")]
        state(ctx).out.print(records_table(records, columns))


@task_app.command("list")
def task_list(
    ctx: typer.Context, limit: LimitOpt = 10, job_id: MaybeJobIdOpt = None, as_json: JsonOpt = False
) -> None:
    """The newest tasks."""
    data = state(ctx).client().task.list(limit=limit, job_id=job_id)
    if wants_json(ctx, as_json):
        print_json(data)
    else:
        state(ctx).out.print(records_table(data.get("tasks", []), TASK_COLUMNS))


__all__ = ["job_app", "task_app"]
