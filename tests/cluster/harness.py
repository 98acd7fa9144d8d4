"""The multi-party harness: N real fedloom servers in cluster mode, each a process of its own on free
127.0.0.1 ports, with its own data dir, database, certificate and client key.

    with Cluster(tmp_path, [9999, 10000, 10001], databases={10000: mariadb_url}) as cluster:
        guest = cluster.api(9999)            # a signed v1 client of party 9999's server
        cluster.kill(10000)                   # SIGKILL, as a crash
        cluster.start(10000)                  # the same config, data dir and database again
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from fedloom.cluster.certs import config_snippet, init_certs
from fedloom.signing import sign_headers

MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_database(kind: str) -> str:
    """A fresh, empty database on the local MariaDB or PostgreSQL; its SQLAlchemy URL."""
    import sqlalchemy as sa

    name = f"fedloom_c_{uuid.uuid4().hex[:10]}"
    admin, url = {
        "mariadb": (MARIADB_ADMIN, f"mysql+pymysql://root@127.0.0.1:3306/{name}"),
        "postgres": (POSTGRES_ADMIN, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"),
    }[kind]
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return url


def spawn_server(config: Path, log: Path, api: PartyApi, timeout: float = 60) -> subprocess.Popen[bytes]:
    """`fedloom server start --config CONFIG` in a process of its own; returns once `api` gets answers."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from fedloom.cli.main import main; main()",
                "server",
                "start",
                "--config",
                str(config),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server {config.name} exited:\n{log.read_text()[-4000:]}")
        try:
            if api.post("/version/get", {})["retcode"] == 0:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server {config.name} did not answer in {timeout}s:\n{log.read_text()[-4000:]}")


class Signed(httpx.Auth):
    """fate-client 1.x app-key signing of every request."""

    requires_request_body = True

    def __init__(self, app_key: str, secret: str) -> None:
        self.app_key, self.secret = app_key, secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = (
            request.content if request.headers.get("content-type", "").startswith("application/json") else b""
        )
        request.headers.update(sign_headers(self.app_key, self.secret, request.url.raw_path, body))
        yield request


class PartyApi:
    """A bare signed v1 client of one party's server."""

    def __init__(self, base: str, app_key: str | None = None, secret: str | None = None) -> None:
        auth = Signed(app_key, secret) if app_key and secret else None
        self.http = httpx.Client(base_url=f"{base}/v1", timeout=60, auth=auth)

    def post(self, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        r = self.http.post(path, json=body if body is not None else {}, **kw)
        assert r.status_code < 500, r.text
        return r.json()  # type: ignore[no-any-return]

    def ok(self, path: str, body: Any = None) -> Any:
        res = self.post(path, body)
        assert res["retcode"] == 0, res
        return res.get("data")

    def upload(self, path: Path, namespace: str, name: str) -> dict[str, Any]:
        import json
        from urllib.parse import quote

        conf = {"file": str(path), "head": 1, "partition": 4, "namespace": namespace, "table_name": name}
        q = quote(json.dumps(conf), safe=":/,&=+#")
        with path.open("rb") as f:
            r = self.http.post(f"/data/upload?{q}", files={"file": (path.name, f)})
        return r.json()  # type: ignore[no-any-return]

    def job_rows(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.ok("/job/query", {"job_id": job_id}))

    def status(self, job_id: str) -> str:
        rows = self.job_rows(job_id)
        mine = next((r for r in rows if r["f_is_initiator"]), rows[0])
        return str(mine["f_status"])

    def wait(self, job_id: str, timeout: float = 120, until: Iterable[str] = ()) -> str:
        ends = set(until) or {"success", "failed", "canceled", "timeout"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(job_id)
            if status in ends:
                return status
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not reach {sorted(ends)} in {timeout}s")

    def close(self) -> None:
        self.http.close()


@dataclass
class Server:
    party_id: int
    config: Path
    api_port: int
    federation_port: int
    app_key: str
    secret: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    apis: list[PartyApi] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


class Cluster:
    """Servers for `parties`, each with its config; `databases` maps a party to a database URL
    (default SQLite in its data dir); `settings` are added to every config, `party_settings[p]` to p's."""

    def __init__(
        self,
        root: Path,
        parties: list[int],
        databases: dict[int, str] | None = None,
        settings: dict[str, Any] | None = None,
        party_settings: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        self.root = root
        certs = init_certs(root / "certs", parties)
        fed_ports = {p: free_port() for p in parties}
        self.servers: dict[int, Server] = {}
        for pid in parties:
            app_key, secret = f"app-{pid}", uuid.uuid4().hex
            api_port = free_port()
            text = config_snippet(
                certs,
                pid,
                api_port=api_port,
                federation_ports=fed_ports,
                data_dir=str(root / f"data-{pid}"),
                app_key=app_key,
                app_secret=secret,
            )
            conf = yaml.safe_load(text)
            conf.update({"sweep_interval": 0.5, "worker_preload": True, **(settings or {})})
            conf.update((party_settings or {}).get(pid, {}))
            if databases and pid in databases:
                conf["database_url"] = databases[pid]
            path = root / f"server-{pid}.yaml"
            path.write_text(yaml.safe_dump(conf))
            self.servers[pid] = Server(
                pid, path, api_port, fed_ports[pid], app_key, secret, root / f"server-{pid}.log"
            )

    def start(self, party_id: int, timeout: float = 60) -> None:
        srv = self.servers[party_id]
        srv.proc = spawn_server(srv.config, srv.log, self.api(party_id), timeout)

    def start_all(self) -> None:
        for pid in self.servers:
            self.start(pid)

    def api(self, party_id: int) -> PartyApi:
        srv = self.servers[party_id]
        api = PartyApi(srv.url, srv.app_key, srv.secret)
        srv.apis.append(api)
        return api

    def kill(self, party_id: int, sig: int = signal.SIGKILL) -> None:
        proc = self.servers[party_id].proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)

    def stop(self, party_id: int) -> None:
        self.kill(party_id, signal.SIGTERM)

    def log(self, party_id: int) -> str:
        return self.servers[party_id].log.read_text()

    def close(self) -> None:
        for pid, srv in self.servers.items():
            for api in srv.apis:
                api.close()
            self.stop(pid)

    def __enter__(self) -> Cluster:
        self.start_all()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["Cluster", "PartyApi", "Server", "free_port", "new_database", "spawn_server"]
