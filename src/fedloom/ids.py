"""The names every room shares: one `Party`, one `TaskKey`. A leaf module: it imports nothing of fedloom."""

from __future__ import annotations

from typing import NamedTuple


class Party(NamedTuple):
    """A party in one role of a job: `("guest", 9999)`."""

    role: str
    party_id: int


class TaskKey(NamedTuple):
    """One task of one job at one party: the key of a task row, a worker process and its tracking."""

    job_id: str
    component_name: str
    task_version: int
    role: str
    party_id: int

    @property
    def party(self) -> Party:
        return Party(self.role, self.party_id)


__all__ = ["Party", "TaskKey"]
