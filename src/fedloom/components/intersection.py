"""Intersection: private set intersection of sample ids (ECDH over the ed25519 prime-order group)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from fedloom.components.api import Component, Context, Params, peers
from fedloom.errors import InvalidInput
from fedloom.ml.psi import PsiGuest, PsiHost, new_salt
from fedloom.storage.frame import Frame

MAX_RANDOM_BIT = 1024  # FATE's default is 128
MAX_OPTION = 1 << 20  # any number in the method option dicts (key_length 8192, random_bit 1024...)


class IntersectParams(Params):
    model_config = ConfigDict(allow_inf_nan=False)

    # FATE's method names are accepted; every method is served by ECDH PSI, which gives each side
    # no more than FATE's RSA/DH protocols do (ids outside the intersection stay hidden).
    intersect_method: Literal["rsa", "dh", "ecdh", "raw"] = "ecdh"
    sync_intersect_ids: bool = True
    only_output_key: bool = False
    join_role: Literal["guest", "host"] = "guest"
    rsa_params: dict[str, Any] | None = None
    dh_params: dict[str, Any] | None = None
    ecdh_params: dict[str, Any] | None = None
    raw_params: dict[str, Any] | None = None
    intersect_cache_param: dict[str, Any] | None = None
    run_cache: bool = False
    cardinality_only: bool = False
    sample_id_generator: str = "guest"
    intersect_preprocess_params: dict[str, Any] | None = None
    repeated_id_process: bool = False
    repeated_id_owner: str = "guest"
    with_sample_id: bool = False
    allow_info_share: bool = False
    info_owner: str = "guest"
    with_encode: bool = False
    encode_params: dict[str, Any] | None = None
    random_bit: int | None = Field(default=None, ge=1, le=MAX_RANDOM_BIT)

    @field_validator(
        "rsa_params",
        "dh_params",
        "ecdh_params",
        "raw_params",
        "intersect_cache_param",
        "intersect_preprocess_params",
        "encode_params",
    )
    @classmethod
    def _bounded_numbers(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # FATE's method options are accepted (and unused: ECDH serves every method), but bounded.
        for key, item in (value or {}).items():
            if isinstance(item, (int, float)) and not isinstance(item, bool) and not abs(item) <= MAX_OPTION:
                raise ValueError(f"{key} must be a finite number of magnitude at most {MAX_OPTION}")
        return value


intersection = Component(
    "Intersection",
    IntersectParams,
    description="Private set intersection of ids; neither side learns ids outside the intersection.",
    outputs_data=("data",),
)


@intersection.guest()
def intersect_guest(ctx: Context[IntersectParams]) -> None:
    frame = ctx.inputs.data("data")[0]
    _finish(ctx, frame, _guest(ctx, frame))


@intersection.host()
def intersect_host(ctx: Context[IntersectParams]) -> None:
    frame = ctx.inputs.data("data")[0]
    _finish(ctx, frame, _host(ctx, frame))


def _finish(ctx: Context[IntersectParams], frame: Frame, out: Frame | None) -> None:
    if out is not None:
        ctx.outputs.set_data(out)
        ctx.outputs.set_summary(
            {"intersect_num": out.count, "intersect_rate": out.count / max(frame.count, 1)}
        )
    ctx.progress(1.0, f"intersection: {0 if out is None else out.count} ids")


def _guest(ctx: Context[IntersectParams], frame: Frame) -> Frame | None:
    hosts = peers(ctx, "host")
    if not hosts:
        raise InvalidInput("Intersection needs at least one host")
    salt = new_salt()
    ctx.send("salt", salt, hosts)
    psi = PsiGuest([str(i) for i in frame.ids], salt)
    ctx.send("guest_blinded", psi.blind(), hosts)
    ctx.progress(0.3, "blinded own ids")
    matches = [psi.match(ctx.recv("guest_reblinded", h), ctx.recv("host_blinded", h)) for h in hosts]
    result, positions = psi.intersect(matches)
    for host, pos in zip(hosts, positions, strict=True):
        ctx.send(
            "intersect_positions", pos if ctx.params.sync_intersect_ids else np.zeros(0, np.int64), [host]
        )
    ctx.log.info("intersection: %d of %d guest rows", len(result.indices), frame.count)
    return _output(frame, result.indices, ctx.params.only_output_key)


def _host(ctx: Context[IntersectParams], frame: Frame) -> Frame | None:
    guest = peers(ctx, "guest")[0]
    salt = ctx.recv("salt", guest)
    psi = PsiHost([str(i) for i in frame.ids], salt)
    ctx.send("host_blinded", psi.blind(), [guest])
    ctx.send("guest_reblinded", psi.reblind(ctx.recv("guest_blinded", guest)), [guest])
    positions = ctx.recv("intersect_positions", guest)
    if not ctx.params.sync_intersect_ids:
        return None  # the host learns nothing: no output (FATE's behaviour)
    result = psi.resolve(positions)
    return _output(frame, result.indices, ctx.params.only_output_key)


def _output(frame: Frame, indices: np.ndarray, only_key: bool) -> Frame:
    out = frame.take(indices)
    if only_key:
        return Frame(ids=out.ids, features=np.zeros((out.count, 0)), feature_names=[], id_name=out.id_name)
    return out


SPEC = intersection.spec()
