"""Where things live under a server's data directory."""

from __future__ import annotations

from pathlib import Path


def tables_dir(data_dir: Path) -> Path:
    return data_dir / "tables"


def federation_dir(data_dir: Path) -> Path:
    return data_dir / "federation"


def logs_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "logs" / job_id


def task_log_dir(data_dir: Path, job_id: str, role: str, party_id: int, component: str) -> Path:
    return logs_dir(data_dir, job_id) / role / str(party_id) / component


def output_namespace(job_id: str, component: str, task_version: int) -> str:
    return f"output_data_{job_id}_{component}_{task_version}"


__all__ = ["federation_dir", "logs_dir", "output_namespace", "task_log_dir", "tables_dir"]
