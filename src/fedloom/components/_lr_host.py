"""HeteroLR training at a host: its forward part, its encrypted gradient, its share of the loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fedloom.components._lr_common import (
    BATCH_INFO,
    FORE_GRADIENT,
    HOST_FORWARD,
    HOST_GRADIENT,
    HOST_OPTIM_GRADIENT,
    LOSS_INTERMEDIATE,
    SAMPLE_IDS,
    FloatArray,
    LRContext,
    Roles,
    make_optimizer,
    matrix_frac_bits,
    mean_of,
    recv_public_key,
    recv_vector,
    send_vector,
    train_frame,
)
from fedloom.components._lr_epochs import run_epochs, validate_host
from fedloom.errors import InvalidInput
from fedloom.ml.lr import Indices as IntArray
from fedloom.ml.lr import init_weights
from fedloom.ml.optim import Optimizer
from fedloom.ml.paillier import PublicKey
from fedloom.storage.frame import Frame


@dataclass
class HostFit:
    """A host's fitted model: only its own coefficients (no intercept: the guest holds it)."""

    header: list[str]
    coef: FloatArray
    iters: int = 0
    converged: bool = False

    def param(self) -> dict[str, Any]:
        """FATE's LRModelParam fields as a host fills them."""
        return {
            "iters": self.iters,
            "loss_history": [],
            "is_converged": self.converged,
            "weight": {n: float(v) for n, v in zip(self.header, self.coef, strict=True)},
            "intercept": 0.0,
            "header": list(self.header),
            "best_iteration": -1,
        }


def align_to(frame: Frame, ids: list[str]) -> Frame:
    """This party's rows in the order of `ids`, which must be exactly this party's ids."""
    position = {str(i): k for k, i in enumerate(frame.ids)}
    try:
        order = np.fromiter((position[i] for i in ids), dtype=np.intp, count=len(ids))
    except KeyError as exc:
        raise InvalidInput(
            f"HeteroLR: guest id {exc.args[0]!r} is not in this host's data; run Intersection before HeteroLR"
        ) from None
    if len(ids) != frame.count or len(set(ids)) != len(ids):
        raise InvalidInput(
            f"HeteroLR: guest has {len(ids)} rows, this host {frame.count}; run Intersection before HeteroLR"
        )
    return frame.take(order)


def batch_positions(message: Any, n: int) -> list[IntArray]:
    """The guest's batches: row positions in the aligned order, checked before they index anything."""
    batches = [np.asarray(b) for b in message["positions"]]
    for b in batches:
        if b.ndim != 1 or b.size == 0 or b.dtype.kind not in "iu" or b.min() < 0 or b.max() >= n:
            raise InvalidInput(f"HeteroLR: the guest sent batch positions outside [0, {n})")
    return [b.astype(np.intp) for b in batches]


def fit_host(ctx: LRContext, roles: Roles) -> HostFit:
    p = ctx.params
    key = recv_public_key(ctx, roles.arbiter)
    frame = align_to(train_frame(ctx), list(ctx.recv(SAMPLE_IDS, roles.guest)))
    x = np.asarray(frame.features, dtype=np.float64)
    batches = batch_positions(ctx.recv(BATCH_INFO, roles.guest), frame.count)
    init = p.init_param
    w = init_weights(
        x.shape[1],
        method=init.init_method,
        fit_intercept=False,
        init_const=init.init_const,
        random_seed=init.random_seed,
    )
    opt = make_optimizer(p)
    result = HostFit(list(frame.feature_names), w)
    w, result.iters, result.converged = run_epochs(
        ctx,
        roles,
        opt,
        w,
        batches,
        lambda idx, w: _batch_step(ctx, roles, key, x[idx], w, opt),
        lambda w, _epoch: validate_host(ctx, roles, result.header, w),
    )
    result.coef = w
    return result


def _batch_step(
    ctx: LRContext, roles: Roles, key: PublicKey, x: FloatArray, w: FloatArray, opt: Optimizer
) -> FloatArray:
    """Send [[u_h]] = [[0.25 W_h X_h]], get the residual back, send [[gradient]] to the arbiter."""
    n = x.shape[0]
    wx = x @ w
    u = 0.25 * wx
    send_vector(ctx, HOST_FORWARD, key.encrypt(u), [roles.guest])
    if roles.with_loss:  # sent now so the guest never waits for it
        own = 0.125 * float(np.mean(wx**2)) + opt.regularization_loss(w)
        send_vector(ctx, LOSS_INTERMEDIATE, key.encrypt(np.array([own])), [roles.guest])
    residual = recv_vector(ctx, FORE_GRADIENT, roles.guest, key)
    total = residual.dot(x, frac_bits=matrix_frac_bits(ctx.params))
    if roles.asynchronous:  # [[z_g]] lacks this host's own u_h, which it adds in plaintext
        total = total + x.T @ u
    grad = mean_of(total, n) + opt.penalized_gradient(np.zeros_like(w), w)
    send_vector(ctx, HOST_GRADIENT, grad.obfuscate(), [roles.arbiter])
    delta = np.asarray(ctx.recv(HOST_OPTIM_GRADIENT, roles.arbiter), dtype=np.float64)
    return opt.apply(w, delta)
