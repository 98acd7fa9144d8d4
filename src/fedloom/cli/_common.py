"""What every command shares: the CLI state (server URL, --json, client) and the common options."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from fedloom.client import FedloomClient
from fedloom.errors import InvalidInput


@dataclass
class CliState:
    """Built once by the root callback; `transport` lets tests replace the network."""

    server: str
    as_json: bool = False
    timeout: float = 60.0
    transport: httpx.BaseTransport | None = None
    app_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    out: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _client: FedloomClient | None = None

    def client(self) -> FedloomClient:
        if self._client is None:
            self._client = self.connect(self.server, self.timeout)
        return self._client

    def connect(self, url: str, timeout: float) -> FedloomClient:
        """A client to `url` with this CLI's transport and keys (requests are signed when keys are set)."""
        return FedloomClient(
            url, timeout=timeout, transport=self.transport, app_key=self.app_key, secret_key=self.secret_key
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:  # only when a command is invoked without the root app
        found = CliState(server="http://127.0.0.1:9380")
        ctx.obj = found
    return found


def wants_json(ctx: typer.Context, local: bool) -> bool:
    """`--json` given either globally (`fedloom --json job query`) or on the command itself."""
    return local or state(ctx).as_json


def read_json_file(path: Path, what: str) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{what} {path}: the top level must be a JSON object")
    return loaded


def split_list(text: str | None) -> list[str] | None:
    """`"a, b,c"` -> `["a", "b", "c"]` (FATE's --cpn-list)."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON `data` (for scripts).")]
JobIdOpt = Annotated[str, typer.Option("-j", "--job-id", help="Job id.")]
MaybeJobIdOpt = Annotated[str | None, typer.Option("-j", "--job-id", help="Job id.")]
RoleOpt = Annotated[
    str | None, typer.Option("-r", "--role", help="guest, host, arbiter or local (default: the initiator).")
]
PartyOpt = Annotated[int | None, typer.Option("-p", "--party-id", help="Party id (default: the initiator).")]
ComponentOpt = Annotated[
    str,
    typer.Option("-c", "--component", "--component-name", "-cpn", help="Component name, e.g. hetero_lr_0."),
]
MaybeComponentOpt = Annotated[
    str | None,
    typer.Option("-c", "--component", "--component-name", "-cpn", help="Component name, e.g. hetero_lr_0."),
]
StatusOpt = Annotated[
    str | None, typer.Option("-s", "--status", help="waiting, running, success, failed, canceled, timeout.")
]
LimitOpt = Annotated[int, typer.Option("-l", "--limit", help="How many rows.")]
OutDirOpt = Annotated[Path, typer.Option("-o", "--output-path", help="Directory to write into.")]
NamespaceOpt = Annotated[str, typer.Option("-n", "--namespace", help="Table namespace.")]
TableOpt = Annotated[str, typer.Option("-t", "--table-name", "--name", help="Table name.")]

__all__ = [
    "CliState",
    "ComponentOpt",
    "JobIdOpt",
    "JsonOpt",
    "LimitOpt",
    "MaybeComponentOpt",
    "MaybeJobIdOpt",
    "NamespaceOpt",
    "OutDirOpt",
    "PartyOpt",
    "RoleOpt",
    "StatusOpt",
    "TableOpt",
    "read_json_file",
    "split_list",
    "state",
    "wants_json",
]
