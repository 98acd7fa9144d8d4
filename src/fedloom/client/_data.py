"""`client.data` and `client.table`: upload/download jobs and table metadata (/v1/data, /v1/table)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fedloom.client._transport import Envelope, Transport, drop_none
from fedloom.client.errors import ApiError

Records = list[dict[str, Any]]


def upload_conf(
    file: str,
    namespace: str,
    table_name: str,
    *,
    head: bool,
    partition: int,
    delimiter: str,
    drop: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The upload config fate-client sends (ints for flags, `id_delimiter` for the delimiter)."""
    conf: dict[str, Any] = dict(extra or {})
    conf.update(
        file=file,
        namespace=namespace,
        table_name=table_name,
        head=int(head),
        partition=partition,
        id_delimiter=delimiter,
        drop=int(drop),
    )
    conf.setdefault("extend_sid", False)
    conf.setdefault("auto_increasing_sid", False)
    return conf


def encode_query(conf: Mapping[str, Any]) -> str:
    """The whole config as one percent-encoded JSON document, FATE's upload query string."""
    return quote(json.dumps(dict(conf)), safe="")


class DataApi:
    """Tables in and out of a party: each upload/download is a `local` job (role local, party 0)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def upload(
        self,
        file: Path,
        namespace: str,
        table_name: str,
        *,
        head: bool = True,
        partition: int = 4,
        delimiter: str = ",",
        drop: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Send a local CSV as multipart (part `file`, config in the query); return the upload job id."""
        path = Path(file).expanduser().resolve()
        conf = upload_conf(
            str(path),
            namespace,
            table_name,
            head=head,
            partition=partition,
            delimiter=delimiter,
            drop=drop,
            extra=extra,
        )
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise ApiError(101, f"cannot read {path}: {exc.strerror or exc}") from exc
        with handle:
            envelope = self._t.post_multipart("data/upload", encode_query(conf), path.name, handle)
        return _job_id(envelope)

    def upload_server_path(
        self,
        server_file: str,
        namespace: str,
        table_name: str,
        *,
        head: bool = True,
        partition: int = 4,
        delimiter: str = ",",
        drop: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Upload a file that is already on the server's disk (`use_local_data: 0`)."""
        conf = upload_conf(
            server_file,
            namespace,
            table_name,
            head=head,
            partition=partition,
            delimiter=delimiter,
            drop=drop,
            extra=extra,
        )
        conf["use_local_data"] = 0
        return _job_id(self._t.post("data/upload", conf))

    def download(
        self, namespace: str, table_name: str, output_path: str, delimiter: str | None = None
    ) -> str:
        """Export a table to `output_path` **on the server host**; return the download job id."""
        body = drop_none(
            namespace=namespace, table_name=table_name, output_path=output_path, delimiter=delimiter
        )
        return _job_id(self._t.post("data/download", body))

    def upload_history(self, limit: int = 10, job_id: str | None = None) -> Records:
        return list(self._t.call("data/upload/history", drop_none(limit=limit, job_id=job_id)) or [])


class TableApi:
    """Table metadata at one party."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def info(self, namespace: str, name: str) -> dict[str, Any]:
        """`{table_name, namespace, exist: 0|1, count, partition, schema, ...}`."""
        return dict(self._t.call("table/table_info", {"namespace": namespace, "table_name": name}) or {})

    def delete(self, namespace: str, name: str) -> Any:
        return self._t.call("table/delete", {"namespace": namespace, "table_name": name})

    def list(self, job_id: str, role: str, party_id: int) -> Any:
        """Input and output tables of every component of a job at one party."""
        return self._t.call("table/list", {"job_id": job_id, "role": role, "party_id": party_id})

    def preview(self, namespace: str, name: str, limit: int = 10) -> Any:
        return self._t.call("table/preview", {"namespace": namespace, "name": name, "limit": limit})


def _job_id(envelope: Envelope) -> str:
    """FATE answers retcode 0 even when the internal submit failed; the outcome is in data.code."""
    envelope.raise_for_retcode()
    data = envelope.data if isinstance(envelope.data, dict) else {}
    code = data.get("code", 0)
    if isinstance(code, int) and code != 0:
        raise ApiError(code, str(data.get("message") or "the job could not be submitted"), data)
    job_id = envelope.job_id or data.get("job_id")
    if not job_id:
        raise ApiError(100, "the server accepted the request but returned no job id", data)
    return str(job_id)


__all__ = ["DataApi", "TableApi", "encode_query", "upload_conf"]
