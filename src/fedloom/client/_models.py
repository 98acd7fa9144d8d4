"""`client.model` and `client.component`: deployment, predict templates, the component registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fedloom.client._transport import Transport, drop_none


class ModelApi:
    """Models are identified by (model_id, model_version); deploying makes a new version."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def deploy(
        self,
        model_id: str,
        model_version: str,
        cpn_list: Sequence[str] | None = None,
        predict_dsl: Mapping[str, Any] | None = None,
        components_checkpoint: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Returns `{model_id, model_version: <new version>, ...per-party retcodes}`."""
        body = drop_none(
            model_id=model_id,
            model_version=model_version,
            cpn_list=None if cpn_list is None else list(cpn_list),
            predict_dsl=None if predict_dsl is None else dict(predict_dsl),
            components_checkpoint=None if components_checkpoint is None else dict(components_checkpoint),
        )
        return dict(self._t.call("model/deploy", body) or {})

    def predict_dsl(self, model_id: str, model_version: str) -> dict[str, Any]:
        body = {"model_id": model_id, "model_version": model_version}
        return dict(self._t.call("model/get/predict/dsl", body) or {})

    def predict_conf(self, model_id: str, model_version: str) -> dict[str, Any]:
        """A predict conf template with the Reader tables left to fill in."""
        body = {"model_id": model_id, "model_version": model_version}
        return dict(self._t.call("model/get/predict/conf", body) or {})

    def query(
        self,
        model_id: str | None = None,
        model_version: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        query_filters: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        body = drop_none(
            model_id=model_id,
            model_version=model_version,
            role=role,
            party_id=party_id,
            query_filters=None if query_filters is None else list(query_filters),
        )
        return list(self._t.call("model/query", body) or [])


class ComponentApi:
    """The components this server can run (built-in and installed as `fedloom.components` plugins)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> Any:
        return self._t.call("component/list", {})


__all__ = ["ComponentApi", "ModelApi"]
