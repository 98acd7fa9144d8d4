"""What the benchmarks share: uploading a CSV the way fate-client does, and waiting for a job."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import httpx


def upload(http: httpx.Client, path: Path, name: str, namespace: str = "experiment") -> None:
    conf = {
        "file": str(path),
        "head": 1,
        "partition": 4,
        "namespace": namespace,
        "table_name": name,
        "drop": 1,
    }
    with path.open("rb") as f:
        r = http.post(f"/data/upload?{quote(json.dumps(conf))}", files={"file": (path.name, f)})
    assert r.json()["retcode"] == 0, r.text


def wait(http: httpx.Client, job_id: str, poll: float = 0.005) -> str:
    """Poll the initiator's view of a job until it ends; returns its end status."""
    while True:
        rows = http.post("/job/query", json={"job_id": job_id, "role": "guest", "party_id": 9999}).json()[
            "data"
        ]
        if rows[0]["f_status"] in ("success", "failed", "canceled", "timeout"):
            return str(rows[0]["f_status"])
        time.sleep(poll)
