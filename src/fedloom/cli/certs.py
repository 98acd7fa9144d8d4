"""`fedloom certs init`: certificates, command keys and server configs of a development cluster."""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from fedloom.cli._common import JsonOpt, state, wants_json
from fedloom.cli._output import print_json
from fedloom.cluster.certs import DEFAULT_DAYS, ClusterCerts, config_snippet, init_certs, write_file_atomic
from fedloom.errors import InvalidInput

CONFIG_FILE = "server.yaml"

certs_app = typer.Typer(help="Development certificates for cluster mode.", no_args_is_help=True)


@certs_app.command("init")
def init(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="New directory for the CA, certificates and configs.")],
    parties: Annotated[
        list[str],
        typer.Option(
            "--parties",
            help="Party ids: --parties 9999 10000 10001 (or comma separated, or --parties repeated).",
        ),
    ],
    more_parties: Annotated[
        list[str] | None,
        typer.Argument(metavar="PARTY", help="The party ids after the first, as in --parties 9999 10000."),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address every server binds and is reached at.")
    ] = "127.0.0.1",
    api_port_base: Annotated[
        int, typer.Option("--api-port-base", help="HTTP API port of the first party (+1 per party).")
    ] = 9380,
    federation_port_base: Annotated[
        int, typer.Option("--federation-port-base", help="Federation port of the first party (+1 per party).")
    ] = 9360,
    data_dir_base: Annotated[
        Path, typer.Option("--data-dir-base", help="Each party's data dir is DATA_DIR_BASE/<party>.")
    ] = Path("./fedloom-data"),
    days: Annotated[
        int, typer.Option("--days", help="Days the party certificates are valid.")
    ] = DEFAULT_DAYS,
    as_json: JsonOpt = False,
) -> None:
    """Make a development CA, a certificate per party, and each party's server config (with secrets).

    Writes OUT/ca.pem, OUT/ca.key, and OUT/<party>/{cert.pem,key.pem,server.yaml}.
    Refuses an OUT that already holds a CA.
    Party i (in the order given) gets ports API_PORT_BASE+i and FEDERATION_PORT_BASE+i.
    """
    ids = party_ids([*parties, *(more_parties or [])])
    api_ports = _ports(ids, api_port_base, "--api-port-base")
    federation_ports = _ports(ids, federation_port_base, "--federation-port-base")
    if set(api_ports.values()) & set(federation_ports.values()):
        raise InvalidInput("--api-port-base, --federation-port-base: the two port ranges overlap")
    certs = init_certs(out, ids, hosts=[host], days=days)
    data_base = data_dir_base.expanduser().absolute()
    snippets = {
        pid: config_snippet(
            certs,
            pid,
            host=host,
            api_port=api_ports[pid],
            federation_ports=federation_ports,
            data_dir=str(data_base / str(pid)),
            app_key=secrets.token_hex(16),
            app_secret=secrets.token_urlsafe(32),
        )
        for pid in ids
    }
    for pid, text in snippets.items():
        write_file_atomic(certs.out / str(pid) / CONFIG_FILE, text.encode())
    if wants_json(ctx, as_json):
        print_json(_files_report(certs))
    else:
        _print_configs(out, snippets)
        state(ctx).err.print(
            f"{escape(str(certs.out / 'ca.key'))} signs certificates for any party: keep it off the servers. "
            "Each server.yaml holds secrets: copy it to its party only.",
            soft_wrap=True,
        )


def party_ids(values: Sequence[str]) -> list[int]:
    """Party ids from `--parties` values, each one id or several separated by commas or spaces."""
    ids: list[int] = []
    for value in values:
        for item in re.split(r"[\s,]+", value.strip()):
            if not item:
                continue
            if not (item.isascii() and item.isdigit()):
                raise InvalidInput(f"--parties: {item!r} is not a party id (a positive integer)")
            ids.append(int(item))
    if not ids:
        raise InvalidInput("--parties: give at least one party id")
    return ids


def _ports(ids: Sequence[int], base: int, option: str) -> dict[int, int]:
    if not 1 <= base <= 65536 - len(ids):
        raise InvalidInput(f"{option}: {base} + {len(ids)} parties does not fit in the ports 1 to 65535")
    return {pid: base + i for i, pid in enumerate(ids)}


def _files_report(certs: ClusterCerts) -> dict[str, dict[str, str]]:
    return {
        str(pid): {
            "config_file": str(certs.out / str(pid) / CONFIG_FILE),
            "cert": str(paths.cert),
            "key": str(paths.key),
            "ca": str(paths.ca),
        }
        for pid, paths in certs.parties.items()
    }


def _print_configs(out: Path, snippets: dict[int, str]) -> None:
    """Plain stdout (no rich markup or emoji codes), so the YAML can be copied as it is."""
    for pid, text in snippets.items():
        typer.echo(f"# party {pid}: {out / str(pid) / CONFIG_FILE}")
        typer.echo(text)
    typer.echo("# next steps: start one server per party")
    for pid in snippets:
        typer.echo(f"fedloom server start --config {shlex.quote(str(out / str(pid) / CONFIG_FILE))}")


__all__ = ["certs_app", "party_ids"]
