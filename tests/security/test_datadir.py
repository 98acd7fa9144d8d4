"""One owner of a data dir, owner-only files, staging emptied at start: against real servers."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fedloom.datadir import LOCK_FILE
from fedloom.errors import Conflict
from fedloom.federation.auth import SECRET_FILE, Tags, seal, session_key
from fedloom.federation.channel import session_name
from fedloom.paths import federation_dir, staging_dir, tables_dir
from fedloom.server import EmbeddedServer
from tests.e2e.jobs import hetero_lr_job, psi_job
from tests.security.conftest import Api, start_server

pytestmark = pytest.mark.slow


def _upload_demo(api: Api, demo_dir: Path) -> None:
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        res = api.upload(demo_dir / f"{name}.csv", "experiment", name)
        assert res["retcode"] == 0, res


def _submit(api: Api, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
    res = api.post("/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
    assert res["retcode"] == 0, res
    return str(res["jobId"])


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture()
def server(tmp_path: Path, demo_dir: Path) -> Iterator[EmbeddedServer]:
    srv = start_server(tmp_path / "data")
    try:
        _upload_demo(Api(srv.url), demo_dir)
        yield srv
    finally:
        srv.stop()


def test_a_second_server_is_refused_and_the_first_job_is_not_disturbed(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    api = Api(server.url)
    data = server.settings.resolved_data_dir
    job_id = _submit(api, *psi_job())
    _wait_for(
        "a running task",
        lambda: any(t["f_status"] == "running" for t in api.ok("/job/task/query", {"job_id": job_id})),
    )
    leftover = staging_dir(data) / "upload-in-progress"
    leftover.write_bytes(b"half an upload")
    link = tmp_path / "same-dir-by-another-name"
    link.symlink_to(data)

    with pytest.raises(Conflict) as refused:
        start_server(link)  # in this process: the lock is per open file, not per process
    assert f"PID {os.getpid()}" in refused.value.message
    assert repr(str(link)) in refused.value.message  # the data dir as given, not resolved
    # From another process, the way `fedloom server start` would run.
    code = (
        "from pathlib import Path; from fedloom.config import load_settings; from fedloom.server import serve; "
        f"serve(load_settings(None, port=0, data_dir=Path({str(data)!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert f"is in use by another fedloom server (PID {os.getpid()})" in proc.stderr

    assert leftover.exists(), "the refused server must not clean the live server's staging"
    assert api.wait(job_id) == "success"
    tasks = api.ok("/job/task/query", {"job_id": job_id})
    assert {(t["f_task_version"], t["f_status"]) for t in tasks} == {(0, "success")}  # no rerun, no recovery
    assert not any(t["f_error_report"] for t in tasks)
    assert (data / LOCK_FILE).read_text().strip() == str(os.getpid())


def test_after_stop_a_new_server_starts_on_the_same_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data)
    first.stop()
    assert (data / LOCK_FILE).read_text() == ""  # released: no stale PID
    second = start_server(data)
    try:
        assert Api(second.url).ok("/version/get", {})
        with pytest.raises(Conflict):
            start_server(data)
    finally:
        second.stop()
    third = start_server(data)  # and once more: a refused start leaves nothing held
    third.stop()


def test_a_killed_server_does_not_keep_the_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code = (
        "import time; from pathlib import Path; from fedloom.datadir import acquire; "
        f"acquire(Path({str(data)!r})); print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(Conflict, match=f"PID {proc.pid}"):
            start_server(data)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    start_server(data).stop()  # the OS released the flock with the process


def _modes(root: Path) -> dict[str, int]:
    """Mode of every entry under `root`; entries removed while walking (a job's mailbox) are skipped."""
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            try:
                out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
            except FileNotFoundError:
                continue
    return out


def test_every_file_is_owner_only_after_a_real_pipeline(tmp_path: Path, demo_dir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old = os.umask(0o022)  # what a typical shell gives: the server must not depend on it
    try:
        srv = start_server(data)
        try:
            api = Api(srv.url)
            _upload_demo(api, demo_dir)
            job_id = _submit(api, *hetero_lr_job(max_iter=2))
            assert api.wait(job_id, timeout=120) == "success"
            modes = _modes(data)
        finally:
            srv.stop()
        assert os.umask(0o022) == 0o022, "the embedding process gets its umask back after the last stop"
    finally:
        os.umask(old)
    names = set(modes)
    for must in ("fedloom.db", "fedloom.db-wal", LOCK_FILE, SECRET_FILE, "staging", "tables", "logs"):
        assert must in names, f"{must} was not created: {sorted(names)[:20]}"
    assert any(n.startswith(f"logs/{job_id}/") and n.endswith(".log") for n in names)
    assert any(n.startswith("tables/") for n in names) and len(names) > 30
    loose = {n: oct(m) for n, m in modes.items() if m & 0o077}
    assert loose == {}, f"readable by others: {loose}"


def test_staging_half_written_tables_and_stale_mailboxes_are_removed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    staging = staging_dir(data)
    half_written = tables_dir(data) / "experiment" / ".tmp-crashed-write"
    half_written.mkdir(parents=True)
    (half_written / "part-0.parquet").write_bytes(b"half")
    stale = [federation_dir(data) / s for s in ("202001010000.reader_0.0", "job_reader_0_0")]
    for session in stale:
        (session / "m" / "guest-9999__host-10000").mkdir(parents=True)
        (session / "m" / "guest-9999__host-10000" / "00000000.msg").write_bytes(b"old")
    (staging / "a-killed-upload").mkdir(parents=True)
    (staging / "a-killed-upload" / "part-0.csv").write_text("id,x\n1,2\n")
    (staging / "loose.tmp").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the server's")
    (staging / "link-out").symlink_to(outside)
    srv = start_server(data)
    try:
        assert list(staging.iterdir()) == [] and not half_written.exists()
        assert not any(session.exists() for session in stale)  # jobs unknown to this server
        assert stat.S_IMODE(staging.stat().st_mode) == 0o700
        assert (outside / "keep.txt").read_text() == "not the server's"  # a symlink is removed, not followed
    finally:
        srv.stop()


def _plant_replays(inbox: Path, session: str, key: bytes) -> int:
    """Copies of a valid arbiter message (of another sequence number) in every empty slot towards the
    guest and the host; slots already read are never read again, so only the one awaited matters."""
    planted = 0
    try:
        for name_dir in list(inbox.iterdir()):
            for dst in (("guest", 9999), ("host", 10000)):
                slots = name_dir / f"arbiter-10000__{dst[0]}-{dst[1]}"
                slots.mkdir(exist_ok=True)  # the arbiter may have been stopped before it made this one
                genuine = seal(key, Tags(session, name_dir.name, ("arbiter", 10000), dst, 9999), b"\xc3")
                for seq in range(400):
                    slot = slots / f"{seq:08d}.msg"
                    if not slot.exists():
                        tmp = slots / f"{seq:08d}.plant"
                        tmp.write_bytes(genuine)
                        os.replace(tmp, slot)
                        planted += 1
    except FileNotFoundError:  # the first copy already failed the job, which dropped its session
        assert planted
    return planted


def test_a_replayed_federation_message_fails_the_task_in_a_real_job(tmp_path: Path, demo_dir: Path) -> None:
    """A valid message of the arbiter (sealed with the session's real key for another sequence number)
    copied into the next slots of the guest and host: the receiving task fails naming the arbiter.

    Deterministic: the arbiter is stopped (SIGSTOP) after its first iteration, so the guest and host
    block on a slot that only the copied message fills."""
    srv = start_server(tmp_path / "data", federation_timeout=60)
    arbiter_pid = 0
    try:
        api = Api(srv.url)
        _upload_demo(api, demo_dir)
        dsl, conf = hetero_lr_job(max_iter=200)
        conf["component_parameters"]["common"]["hetero_lr_0"]["tol"] = 0.0
        job_id = _submit(api, dsl, conf)
        data = srv.settings.resolved_data_dir
        session = session_name(job_id, "hetero_lr_0", 0)
        inbox = federation_dir(data) / session
        _wait_for(
            "the arbiter's first iteration",
            lambda: (inbox / "converge_flag" / "arbiter-10000__guest-9999").is_dir(),
            timeout=120,
        )
        arbiter = next(
            t
            for t in api.ok("/job/task/query", {"job_id": job_id, "component_name": "hetero_lr_0"})
            if t["f_role"] == "arbiter"
        )
        arbiter_pid = int(arbiter["f_run_pid"])
        os.kill(arbiter_pid, signal.SIGSTOP)

        key = session_key((data / SECRET_FILE).read_bytes(), session)
        planted = _plant_replays(inbox, session, key)
        assert planted

        assert api.wait(job_id, timeout=60) == "failed"
        tasks = api.ok("/job/task/query", {"job_id": job_id, "component_name": "hetero_lr_0"})
        errors = [t["f_error_report"] for t in tasks if t["f_role"] in ("guest", "host")]
        assert any("failed authentication" in e and "from arbiter 10000" in e for e in errors), errors
        assert not any("no message" in e for e in errors), "a time-out instead of a refusal"
        models = api.post(
            "/tracking/component/output/model",
            {"job_id": job_id, "component_name": "hetero_lr_0", "role": "guest", "party_id": 9999},
        )
        assert not (models.get("data") or {}).get("weight"), "no model from a job fed a replayed message"
    finally:
        if arbiter_pid:
            try:
                os.kill(arbiter_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        srv.stop()
