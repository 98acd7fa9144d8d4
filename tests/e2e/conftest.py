"""Fixtures for end-to-end tests: a real fedloom server on a free 127.0.0.1 port with demo tables."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedloom.config import load_settings
from fedloom.server import EmbeddedServer
from fedloom.storage.demo_data import write_demo


class Api:
    """A bare v1 client: what fate-client sends, nothing of our SDK."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=f"{base}/v1", timeout=60)

    def post(self, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        r = self.http.post(path, json=body, **kw)
        assert r.status_code < 500, r.text
        return r.json()  # type: ignore[no-any-return]

    def ok(self, path: str, body: Any = None) -> Any:
        res = self.post(path, body)
        assert res["retcode"] == 0, res
        return res.get("data")

    def upload(self, path: Path, namespace: str, name: str, drop: int = 0) -> dict[str, Any]:
        import json
        from urllib.parse import quote

        conf = {
            "file": str(path),
            "head": 1,
            "partition": 4,
            "namespace": namespace,
            "table_name": name,
            "drop": drop,
        }
        q = quote(json.dumps(conf), safe=":/,&=+#")
        with path.open("rb") as f:
            r = self.http.post(f"/data/upload?{q}", files={"file": (path.name, f)})
        return r.json()  # type: ignore[no-any-return]

    def wait(self, job_id: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.ok("/job/query", {"job_id": job_id})
            status = next(r["f_status"] for r in rows if r["f_is_initiator"])
            if status in ("success", "failed", "canceled", "timeout"):
                return str(status)
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not end in {timeout}s")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo(out)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[EmbeddedServer]:
    data = tmp_path_factory.mktemp("server")
    settings = load_settings(None, port=0, data_dir=data, sweep_interval=0.5)
    with EmbeddedServer(settings) as srv:
        api = Api(srv.url)
        for name in ("breast_hetero_guest", "breast_hetero_host"):
            res = api.upload(demo_dir / f"{name}.csv", "experiment", name)
            assert res["retcode"] == 0, res
        yield srv


@pytest.fixture()
def api(server: EmbeddedServer) -> Api:
    return Api(server.url)
