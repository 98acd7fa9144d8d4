"""HeteroLR training at the guest: labels, batches, residuals, its own encrypted gradient and the loss."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedloom.components._lr_common import (
    BATCH_INFO,
    FORE_GRADIENT,
    GUEST_GRADIENT,
    GUEST_OPTIM_GRADIENT,
    HOST_FORWARD,
    LOSS,
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
from fedloom.components._lr_epochs import run_epochs, validate_guest
from fedloom.errors import InvalidInput
from fedloom.ml.lr import Indices as IntArray
from fedloom.ml.lr import batch_indices, init_weights
from fedloom.ml.optim import Optimizer
from fedloom.ml.paillier import EncryptedVector, PublicKey
from fedloom.storage.frame import Frame

_LOG2 = math.log(2.0)


@dataclass
class GuestFit:
    """The guest's fitted model: its own coefficients and the intercept."""

    header: list[str]
    coef: FloatArray
    intercept: float
    iters: int = 0
    converged: bool = False

    def param(self) -> dict[str, Any]:
        """FATE's LRModelParam fields; loss_history stays empty: only the arbiter learns the loss."""
        return {
            "iters": self.iters,
            "loss_history": [],
            "is_converged": self.converged,
            "weight": {n: float(v) for n, v in zip(self.header, self.coef, strict=True)},
            "intercept": self.intercept,
            "header": list(self.header),
            "best_iteration": -1,
        }


@dataclass
class _Batch:
    """One batch at the guest while its gradient is formed."""

    x: FloatArray
    y: FloatArray
    wx: FloatArray  # guest's part of w.x, intercept included
    z: FloatArray  # guest's part of the residual: 0.25 * wx - 0.5 * y
    forward: EncryptedVector  # sum over hosts of [[0.25 * W_h X_h]]


def binary_labels(frame: Frame) -> FloatArray:
    """y in {-1, +1} from a 0/1 label (1 is positive), refusing missing and multi-class labels."""
    if frame.label is None:
        raise InvalidInput("HeteroLR: the guest's train_data has no label (DataTransform with_label true)")
    classes = np.unique(frame.label)
    if classes.size > 2:
        raise InvalidInput(
            f"HeteroLR: label has {classes.size} classes; only binary labels are supported (multi_class ovr "
            "is not implemented yet)"
        )
    return np.where(frame.label == 1, 1.0, -1.0)


def fit_guest(ctx: LRContext, roles: Roles) -> GuestFit:
    p = ctx.params
    frame = train_frame(ctx)
    x, y = np.asarray(frame.features, dtype=np.float64), binary_labels(frame)
    key = recv_public_key(ctx, roles.arbiter)
    batches = share_batches(ctx, roles, frame)
    init = p.init_param
    w = init_weights(
        x.shape[1],
        method=init.init_method,
        fit_intercept=init.fit_intercept,
        init_const=init.init_const,
        random_seed=init.random_seed,
    )
    opt = make_optimizer(p)
    result = GuestFit(list(frame.feature_names), w, 0.0)
    w, result.iters, result.converged = run_epochs(
        ctx,
        roles,
        opt,
        w,
        batches,
        lambda idx, w: _batch_step(ctx, roles, key, _forward(ctx, roles, key, x[idx], y[idx], w), w, opt),
        lambda w, epoch: validate_guest(ctx, roles, result.header, w, epoch),
    )
    result.coef, result.intercept = (w[:-1], float(w[-1])) if init.fit_intercept else (w, 0.0)
    return result


def share_batches(ctx: LRContext, roles: Roles, frame: Frame) -> list[IntArray]:
    """Send hosts the id order and the batches (as positions in it); the arbiter gets the count."""
    p = ctx.params
    # Both sides hold the intersected ids already; the order lets hosts align rows to the guest's.
    ctx.send(SAMPLE_IDS, [str(i) for i in frame.ids], roles.hosts)
    seed = 0 if p.init_param.random_seed is None else p.init_param.random_seed
    batches = batch_indices(frame.count, p.batch_size, seed=seed)
    ctx.send(BATCH_INFO, {"batch_num": len(batches), "positions": batches}, roles.hosts)
    ctx.send(BATCH_INFO, {"batch_num": len(batches)}, [roles.arbiter])
    return batches


def _forward(
    ctx: LRContext, roles: Roles, key: PublicKey, x: FloatArray, y: FloatArray, w: FloatArray
) -> _Batch:
    """Exchange the halves of the residual: send [[z_g]] (async) and sum the hosts' [[u_h]]."""
    fit_intercept = ctx.params.init_param.fit_intercept
    wx = x @ (w[:-1] if fit_intercept else w) + (w[-1] if fit_intercept else 0.0)
    z = 0.25 * wx - 0.5 * y
    enc_z = key.encrypt(z)
    if roles.asynchronous:  # the host computes its gradient from [[z_g]] and its own u_h
        send_vector(ctx, FORE_GRADIENT, enc_z, roles.hosts)
    parts = [recv_vector(ctx, HOST_FORWARD, h, key) for h in roles.hosts]
    forward = parts[0]
    for part in parts[1:]:
        forward = forward + part
    if not roles.asynchronous:  # each host needs the full residual [[d]]; fresh randomness hides z_g
        send_vector(ctx, FORE_GRADIENT, (enc_z + forward).obfuscate(), roles.hosts)
    return _Batch(x, y, wx, z, forward)


def _batch_step(
    ctx: LRContext, roles: Roles, key: PublicKey, batch: _Batch, w: FloatArray, opt: Optimizer
) -> FloatArray:
    p = ctx.params
    fit_intercept = p.init_param.fit_intercept
    send_vector(
        ctx,
        GUEST_GRADIENT,
        _gradient(batch, w, opt, fit_intercept, matrix_frac_bits(p)).obfuscate(),
        [roles.arbiter],
    )
    if roles.with_loss:
        host_loss = recv_vector(ctx, LOSS_INTERMEDIATE, roles.hosts[0], key)
        send_vector(
            ctx,
            LOSS,
            _loss(batch, host_loss, w, opt, fit_intercept, matrix_frac_bits(p)).obfuscate(),
            [roles.arbiter],
        )
    delta = np.asarray(ctx.recv(GUEST_OPTIM_GRADIENT, roles.arbiter), dtype=np.float64)
    return opt.apply(w, delta, intercept_last=fit_intercept)


def _gradient(
    batch: _Batch, w: FloatArray, opt: Optimizer, fit_intercept: bool, frac_bits: int
) -> EncryptedVector:
    """[[X^T d / n]] (+ [[mean d]] for the intercept) + alpha * w: hosts' part encrypted, own part plain."""
    n = len(batch.y)
    coef = batch.forward.dot(batch.x, frac_bits=frac_bits) + batch.x.T @ batch.z
    parts = [coef]
    if fit_intercept:
        parts.append(batch.forward.sum() + float(batch.z.sum()))
    grad = mean_of(EncryptedVector.concat(parts), n)
    penalty = opt.penalized_gradient(np.zeros_like(w), w, intercept_last=fit_intercept)
    return grad + penalty


def _loss(
    batch: _Batch,
    host_part: EncryptedVector,
    w: FloatArray,
    opt: Optimizer,
    fit_intercept: bool,
    frac_bits: int,
) -> EncryptedVector:
    """[[log2 - 0.5 mean(y wx) + 0.125 mean(wx^2) + reg]] with wx = wx_g + wx_h (see fedloom.ml.lr).

    With u = 0.25 wx_h: -0.5 mean(y wx_h) + 0.25 mean(wx_g wx_h) = mean(u (wx_g - 2y)); the host sends
    [[0.125 mean(wx_h^2) + its regularisation]].
    """
    n = len(batch.y)
    cross = mean_of(batch.forward.dot(batch.wx - 2.0 * batch.y, frac_bits=frac_bits), n)
    own = _LOG2 - 0.5 * float(np.mean(batch.y * batch.wx)) + 0.125 * float(np.mean(batch.wx**2))
    own += opt.regularization_loss(w, intercept_last=fit_intercept)
    return cross + host_part + own
