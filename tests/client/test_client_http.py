"""FedloomClient transport: envelopes, retcodes, unreachable servers, non-JSON answers."""

from __future__ import annotations

import socket

import httpx
import pytest

from fedloom.client import ApiError, FedloomClient, ServerUnreachable
from fedloom.errors import FedloomError
from tests.client.fake_flow import FakeServer


def test_returns_data_of_a_successful_envelope(server: FakeServer, client: FedloomClient) -> None:
    server.on("version/get", data={"FATEFlow": "1.11.2", "API": "v1"})
    assert client.version() == {"FATEFlow": "1.11.2", "API": "v1"}
    assert server.requests[0].url == "http://flow.test:9380/v1/version/get"
    assert server.requests[0].method == "POST"


def test_nonzero_retcode_raises_api_error_with_retcode_retmsg_data(
    server: FakeServer, client: FedloomClient
) -> None:
    server.on("job/stop", retcode=102, retmsg="can not found job", data={"detail": 1})
    with pytest.raises(ApiError) as raised:
        client.job.stop("123")
    assert isinstance(raised.value, FedloomError)
    assert (raised.value.retcode, raised.value.retmsg, raised.value.data) == (
        102,
        "can not found job",
        {"detail": 1},
    )


def test_http_error_status_with_an_envelope_keeps_the_envelope_retcode(
    client: FedloomClient, server: FakeServer
) -> None:
    server.on("job/list/job", lambda _r: httpx.Response(400, json={"retcode": 400, "retmsg": "bad order_by"}))
    with pytest.raises(ApiError, match="bad order_by") as raised:
        client.job.list(order_by="nope")
    assert raised.value.retcode == 400


def test_non_json_answer_is_retcode_100_naming_the_status(server: FakeServer, client: FedloomClient) -> None:
    server.on("job/query", lambda _r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ApiError, match="HTTP 502") as raised:
        client.job.query(job_id="1")
    assert raised.value.retcode == 100


def test_connection_refused_names_the_url_and_how_to_start_a_server() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with FedloomClient(url, timeout=5) as client, pytest.raises(ServerUnreachable) as raised:
        client.job.query()
    assert raised.value.retcode == 100
    assert url in raised.value.message
    assert "fedloom server start" in raised.value.message


def test_transport_errors_become_server_unreachable() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with FedloomClient(transport=httpx.MockTransport(broken)) as client, pytest.raises(ServerUnreachable):
        client.version()


def test_read_timeout_is_an_api_error_not_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with FedloomClient(transport=httpx.MockTransport(slow)) as client, pytest.raises(ApiError) as raised:
        client.version()
    assert not isinstance(raised.value, ServerUnreachable)
    assert "in time" in raised.value.message


def test_dependency_and_component_list_routes(server: FakeServer, client: FedloomClient) -> None:
    server.on("pipeline/dag/dependency", data={"component_list": ["reader_0"]})
    server.on("component/list", data=[{"module": "Reader"}])
    assert client.dependency("1", "guest", 9999) == {"component_list": ["reader_0"]}
    assert server.body() == {"job_id": "1", "role": "guest", "party_id": 9999}
    assert client.component.list() == [{"module": "Reader"}]
