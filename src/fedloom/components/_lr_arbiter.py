"""HeteroLR at the arbiter: holds the Paillier key, turns gradients into updates, decides convergence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fedloom.components._lr_common import (
    BATCH_INFO,
    CONVERGE_FLAG,
    GUEST_GRADIENT,
    GUEST_OPTIM_GRADIENT,
    HOST_GRADIENT,
    HOST_OPTIM_GRADIENT,
    LOSS,
    PUBKEY,
    FloatArray,
    LRContext,
    Roles,
    make_optimizer,
    progress_message,
    recv_vector,
)
from fedloom.components._lr_params import HeteroLRParams
from fedloom.ids import Party
from fedloom.ml.optim import Optimizer
from fedloom.ml.paillier import PrivateKey, generate_keypair

LOSS_META = {"metric_type": "LOSS", "unit_name": "iters"}


@dataclass
class ArbiterFit:
    iters: int = 0
    converged: bool = False
    loss_history: list[float] = field(default_factory=list)


def fit_arbiter(ctx: LRContext, roles: Roles) -> ArbiterFit:
    p = ctx.params
    public_key, private_key = generate_keypair(p.encrypt_param.key_length)
    ctx.send(PUBKEY, public_key.to_dict(), [roles.guest, *roles.hosts])
    batch_num = int(ctx.recv(BATCH_INFO, roles.guest)["batch_num"])
    opt = make_optimizer(p)
    result = ArbiterFit()
    for epoch in range(p.max_iter):
        opt.set_iteration(epoch)
        moved, losses = np.zeros(0), []
        for _ in range(batch_num):
            delta, loss = _batch_update(ctx, roles, private_key, opt)
            moved = delta if moved.size == 0 else moved + delta
            if loss is not None:
                losses.append(loss)
        loss_value = float(np.mean(losses)) if losses else None
        converged = _converged(p, result.loss_history, loss_value, float(np.linalg.norm(moved)))
        if loss_value is not None:
            result.loss_history.append(loss_value)
            ctx.metrics.log("train", "loss", [(epoch, loss_value)], LOSS_META)
        # Only the flag: the loss mixes in host terms, so like FATE it stays with the arbiter.
        ctx.send(CONVERGE_FLAG, {"converged": converged}, [roles.guest, *roles.hosts])
        result.iters, result.converged = epoch + 1, converged
        ctx.progress((epoch + 1) / p.max_iter, progress_message(epoch, loss_value))
        if converged:
            break
    return result


def _batch_update(
    ctx: LRContext, roles: Roles, key: PrivateKey, opt: Optimizer
) -> tuple[FloatArray, float | None]:
    """Decrypt every party's gradient, take one optimizer step over their concatenation, return the slices.

    The rules (rmsprop, adam...) are elementwise, so one optimizer over the concatenation is FATE's
    arbiter exactly; its state never leaves the arbiter.
    """
    pk = key.public_key
    grads = [key.decrypt(recv_vector(ctx, GUEST_GRADIENT, roles.guest, pk))]
    grads += [key.decrypt(recv_vector(ctx, HOST_GRADIENT, h, pk)) for h in roles.hosts]
    delta = opt.step(np.concatenate(grads))
    start = 0
    for grad, (name, party) in zip(grads, _receivers(roles), strict=True):
        ctx.send(name, delta[start : start + grad.size], [party])
        start += grad.size
    loss = float(key.decrypt(recv_vector(ctx, LOSS, roles.guest, pk))[0]) if roles.with_loss else None
    return delta, loss


def _receivers(roles: Roles) -> list[tuple[str, Party]]:
    return [(GUEST_OPTIM_GRADIENT, roles.guest)] + [(HOST_OPTIM_GRADIENT, h) for h in roles.hosts]


def _converged(p: HeteroLRParams, history: list[float], loss: float | None, moved: float) -> bool:
    """FATE's arbiter rules: diff |loss_t - loss_{t-1}| < tol, abs loss <= tol, weight_diff ||delta|| < tol."""
    if p.early_stop == "weight_diff":
        return moved < p.tol
    if loss is None:
        return False
    if p.early_stop == "abs":
        return loss <= p.tol
    return bool(history) and abs(loss - history[-1]) < p.tol
