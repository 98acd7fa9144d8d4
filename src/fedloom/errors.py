"""The error hierarchy: every failure a user can see is one of these, mapped to a retcode once."""

from __future__ import annotations

from typing import Any


class FedloomError(Exception):
    """Base of all expected errors. `retcode` follows FATE-Flow's RetCode table."""

    retcode = 100
    http_status = 200

    def __init__(self, message: str, *, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class InvalidInput(FedloomError):
    """A request body, DSL, conf, CSV or parameter is malformed. Says what and where."""

    retcode = 101


class NotFound(FedloomError):
    """A referenced job, task, table or model does not exist."""

    retcode = 102


class Conflict(FedloomError):
    """The operation contradicts the current state (table exists, job already ended...)."""

    retcode = 103


class OperationFailed(FedloomError):
    """An operation could not be carried out (resources, stop, rerun)."""

    retcode = 103


class PartyUnreachable(FedloomError):
    """A federated command could not be delivered to another party."""

    retcode = 104


class PermissionDenied(FedloomError):
    """A party refused: its permission rules do not grant this use."""

    retcode = 108


class AuthenticationFailed(FedloomError):
    """A signature or certificate check failed."""

    retcode = 109


class FederationTimeout(FedloomError):
    """A message from a peer task did not arrive in time."""

    retcode = 104


class NoData(FedloomError):
    """Download routes: nothing to download (FATE answers HTTP 210)."""

    retcode = 210
    http_status = 210


__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "FederationTimeout",
    "FedloomError",
    "InvalidInput",
    "NoData",
    "NotFound",
    "OperationFailed",
    "PartyUnreachable",
    "PermissionDenied",
]
