"""/v1/version, /v1/info, /v1/component and /v1/provider over the real services."""

from __future__ import annotations

from fedloom import FATE_COMPAT_VERSION, __version__
from tests.api.conftest import Client


def test_versions(client: Client) -> None:
    assert client.ok("/version/get") == {"FATE": FATE_COMPAT_VERSION, "API": "v1"}
    assert client.ok("/version/get", {"module": "fedloom"}) == {"fedloom": __version__, "API": "v1"}
    assert client.post("/version/get", {"module": "nope"})["retcode"] == 102
    assert set(client.ok("/server/version/get")) == {"FATE", "FATEFlow", "fedloom", "PYTHON", "API"}


def test_components_and_providers(client: Client) -> None:
    data = client.ok("/component/list")
    assert {"reader", "datatransform", "intersection", "heterolr"} <= set(data["components"])
    reader = data["detail"]["Reader"]
    assert list(reader) == ["roles", "provider", "description", "parameters"]
    assert reader["provider"] == "fate_flow" and reader["parameters"]["type"] == "object"
    providers = client.ok("/provider/get")
    assert sorted(c for p in providers.values() for c in p[__version__]["components"]) == sorted(
        data["components"]
    )
