"""The one place where failures become a red line and an exit code (never a traceback)."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Console
from typer.core import TyperGroup

from fedloom.cli._common import CliState
from fedloom.cli._output import print_error
from fedloom.client.errors import ServerUnreachable
from fedloom.errors import FedloomError, InvalidInput

EXIT_OK = 0
EXIT_FAILED = 1  # a job failed, or the server refused / could not do the operation
EXIT_USAGE = 2  # bad options or invalid input (click uses 2 for usage errors too)
EXIT_UNREACHABLE = 3  # no server answered
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


def exit_code_for(exc: FedloomError) -> int:
    if isinstance(exc, ServerUnreachable):
        return EXIT_UNREACHABLE
    if isinstance(exc, InvalidInput) or exc.retcode == InvalidInput.retcode:
        return EXIT_USAGE
    return EXIT_FAILED


class FedloomGroup(TyperGroup):
    """Root command group: every subcommand runs inside `invoke`, so errors are handled here once."""

    # `ctx` is Any on purpose: typer >= 0.2x vendors click (typer._click), older typer uses click itself.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FedloomError as exc:
            _fail(ctx, exc.message, exc.retcode, exit_code_for(exc))
        except httpx.TransportError as exc:  # the client maps these; kept for safety at the boundary
            _fail(ctx, f"connection failed: {exc}", 100, EXIT_UNREACHABLE)
        except httpx.HTTPError as exc:
            _fail(ctx, f"HTTP error: {exc}", 100, EXIT_FAILED)
        except OSError as exc:  # local files: conf, output directories
            where = f": {exc.filename}" if exc.filename else ""
            _fail(ctx, f"{exc.strerror or exc}{where}", None, EXIT_FAILED)
        except KeyboardInterrupt:
            _fail(
                ctx, "interrupted (jobs already submitted keep running on the server)", None, EXIT_INTERRUPTED
            )


def _fail(ctx: Any, message: str, retcode: int | None, code: int) -> None:
    found = ctx.find_object(CliState)
    console = found.err if found is not None else Console(stderr=True, highlight=False)
    print_error(console, message, retcode)
    raise typer.Exit(code)


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "FedloomGroup",
    "exit_code_for",
]
