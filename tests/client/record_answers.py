"""Records the answers the fakes replay (`recorded_answers.json`) from a real fedloom server's routes.

The fakes of the SDK and CLI tests answer with these records, so they cannot drift from the server:
`tests/api/test_recorded_answers.py` records again from the real routes and compares. To refresh the
file after an answer changed on purpose:

    python -m tests.client.record_answers
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Protocol

from tests.api.conftest import serve
from tests.services.conftest import make_platform, psi_job

RECORDED = Path(__file__).with_name("recorded_answers.json")
JOB_ID = "202601010000000000000001"
_TIMES = ("f_create_time", "f_update_time", "f_start_time", "f_end_time", "f_elapsed")


class Poster(Protocol):
    def ok(self, path: str, body: Any = None) -> Any: ...


def record(api: Poster, dsl: dict[str, Any], conf: dict[str, Any]) -> dict[str, Any]:
    """The initiator's job/query row and one task/query row of a freshly submitted job, with the job
    id, task id and times replaced by fixed values."""
    job_id = api.ok("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["job_id"]
    [job] = api.ok("/job/query", {"job_id": job_id, "is_initiator": True})
    [task] = api.ok("/job/task/query", {"job_id": job_id, "component_name": "reader_0", "role": "guest"})
    return {"job": _fixed(job, job_id), "task": _fixed(task, job_id)}


def _fixed(row: dict[str, Any], job_id: str) -> dict[str, Any]:
    text = json.dumps(row).replace(job_id, JOB_ID)
    fixed: dict[str, Any] = json.loads(text)
    for key in _TIMES:
        if key in fixed:
            fixed[key] = None if key in ("f_start_time", "f_end_time", "f_elapsed") else 1767225600000
    return fixed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = make_platform(Path(tmp) / "data")
        try:
            with serve(platform) as api:
                found = record(api, *psi_job())
        finally:
            platform.close()
    RECORDED.write_text(json.dumps(found, indent=2, sort_keys=False) + "\n")
    print(f"wrote {RECORDED}")


if __name__ == "__main__":
    main()
