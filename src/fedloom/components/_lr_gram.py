"""HeteroLR with one host, second-moment form: crypto once per batch at set-up, not once per row per epoch.

The Taylor-approximated loss is quadratic in w, so a batch's gradient needs only second moments:
with A = [X_g, 1] (the guest's columns), X_h (the host's), y in {-1, +1} and n rows,

    g_guest = (0.25 A^T A w_g - 0.5 A^T y + 0.25 M^T w_h) / n
    g_host  = (0.25 X_h^T X_h w_h - 0.5 v + 0.25 M w_g) / n,     M = X_h^T A,  v = X_h^T y

A^T A, A^T y and X_h^T X_h are each party's own. The cross moments M and v are computed once,
under the arbiter's key: the guest encrypts its columns and labels once, the host forms [[M]] and
[[v]] with multi-exponentiations and sends the guest [[M]] re-randomised. Per batch each side then
sends the other an encrypted, re-randomised d-vector ([[M w_g]] or [[M^T w_h]]), and the arbiter
decrypts exactly what it decrypts in FATE's protocol: each party's gradient and the loss. Neither
guest nor host ever holds a plaintext of the other's, and every ciphertext that leaves a party is
fresh or re-randomised (a deterministic product of known ciphertexts would let the receiver test
guesses). The messages to and from the arbiter are those of `_lr_arbiter`, which is unchanged.

What differs from FATE's per-row protocol is what a host colluding with the arbiter could decrypt:
the guest's feature columns here, per-row residuals (from which labels follow) there. Both protocols
assume the arbiter does not collude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fedloom.components._lr_common import (
    BATCH_INFO,
    GUEST_GRADIENT,
    GUEST_OPTIM_GRADIENT,
    HOST_GRADIENT,
    HOST_OPTIM_GRADIENT,
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
from fedloom.components._lr_epochs import run_epochs, validate_guest, validate_host
from fedloom.components._lr_guest import GuestFit, binary_labels, share_batches
from fedloom.components._lr_host import HostFit, align_to, batch_positions
from fedloom.errors import InvalidInput
from fedloom.ml.lr import Indices, init_weights
from fedloom.ml.optim import Optimizer
from fedloom.ml.paillier import EncryptedVector, PublicKey

GRAM_COLUMNS = "gram_columns"  # guest -> host, once: how many columns follow
GRAM_COLUMN = "gram_column"  # guest -> host, once per guest column (and the labels)
GRAM_CROSS = "gram_cross"  # host -> guest, once per batch: [[M_b]] by guest column
GRAM_GUEST_PART = "gram_guest_part"  # guest -> host, per batch: [[M_b w_g]]
GRAM_HOST_PART = "gram_host_part"  # host -> guest, per batch: [[M_b^T w_h]]
WEIGHT_FRAC_BITS = 32
_LOG2 = math.log(2.0)


def _design(x: FloatArray, fit_intercept: bool) -> FloatArray:
    return np.hstack([x, np.ones((x.shape[0], 1))]) if fit_intercept else x


# ---- guest ---------------------------------------------------------------------------------------
@dataclass
class _GuestBatch:
    gram: FloatArray  # A_b^T A_b
    ay: FloatArray  # A_b^T y_b
    n: int
    cross: list[EncryptedVector]  # [[M_b]] column j = [[X_h,b^T A_b,j]] (length d_h)


def fit_guest_gram(ctx: LRContext, roles: Roles) -> GuestFit:
    p = ctx.params
    frame = train_frame(ctx)
    fit_intercept = p.init_param.fit_intercept
    a, y = _design(np.asarray(frame.features, dtype=np.float64), fit_intercept), binary_labels(frame)
    key = recv_public_key(ctx, roles.arbiter)
    batches = share_batches(ctx, roles, frame)
    ctx.send(GRAM_COLUMNS, a.shape[1] + 1, [roles.hosts[0]])
    for j in range(a.shape[1] + 1):  # columns one by one, so the host works while we encrypt the next
        column = y if j == a.shape[1] else a[:, j]
        send_vector(ctx, GRAM_COLUMN, key.encrypt(column), [roles.hosts[0]])
        ctx.progress(0.5 * (j + 1) / (a.shape[1] + 1) / p.max_iter, f"set-up: encrypted column {j}")
    local = [_guest_batch(ctx, roles, key, a[idx], y[idx]) for idx in batches]
    init = p.init_param
    w = init_weights(
        frame.features.shape[1],
        method=init.init_method,
        fit_intercept=fit_intercept,
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
        local,
        lambda b, w: _guest_step(ctx, roles, key, b, w, opt),
        lambda w, epoch: validate_guest(ctx, roles, result.header, w, epoch),
    )
    result.coef, result.intercept = (w[:-1], float(w[-1])) if fit_intercept else (w, 0.0)
    return result


def _guest_batch(ctx: LRContext, roles: Roles, key: PublicKey, a: FloatArray, y: FloatArray) -> _GuestBatch:
    blobs = ctx.recv(GRAM_CROSS, roles.hosts[0])
    if not isinstance(blobs, list) or len(blobs) != a.shape[1]:
        raise InvalidInput(
            f"HeteroLR: host sent {type(blobs).__name__} for {a.shape[1]} cross-moment columns"
        )
    cross = [EncryptedVector.from_bytes(key, b) for b in blobs]
    return _GuestBatch(a.T @ a, a.T @ y, a.shape[0], cross)


def _guest_step(
    ctx: LRContext, roles: Roles, key: PublicKey, b: _GuestBatch, w: FloatArray, opt: Optimizer
) -> FloatArray:
    p = ctx.params
    fit_intercept = p.init_param.fit_intercept
    mw = _weighted_sum(b.cross, w)  # [[M w_g]]
    send_vector(ctx, GRAM_GUEST_PART, mw.obfuscate(), [roles.hosts[0]])
    mtw = recv_vector(ctx, GRAM_HOST_PART, roles.hosts[0], key)  # [[M^T w_h]]
    own = 0.25 * (b.gram @ w) - 0.5 * b.ay
    grad = mean_of(mtw.mul(0.25, frac_bits=2) + own, b.n)
    grad = grad + opt.penalized_gradient(np.zeros_like(w), w, intercept_last=fit_intercept)
    send_vector(ctx, GUEST_GRADIENT, grad.obfuscate(), [roles.arbiter])
    host_loss = recv_vector(ctx, LOSS_INTERMEDIATE, roles.hosts[0], key)
    own_loss = _LOG2 + (-0.5 * float(b.ay @ w) + 0.125 * float(w @ b.gram @ w)) / b.n
    own_loss += opt.regularization_loss(w, intercept_last=fit_intercept)
    send_vector(ctx, LOSS, (host_loss + own_loss).obfuscate(), [roles.arbiter])
    delta = np.asarray(ctx.recv(GUEST_OPTIM_GRADIENT, roles.arbiter), dtype=np.float64)
    return opt.apply(w, delta, intercept_last=fit_intercept)


def _weighted_sum(columns: list[EncryptedVector], weights: FloatArray) -> EncryptedVector:
    """sum_j weights[j] * columns[j]: one scalar product per column."""
    total = columns[0].mul(float(weights[0]), frac_bits=WEIGHT_FRAC_BITS)
    for col, wj in zip(columns[1:], weights[1:], strict=True):
        total = total + col.mul(float(wj), frac_bits=WEIGHT_FRAC_BITS)
    return total


# ---- host ----------------------------------------------------------------------------------------
@dataclass
class _HostBatch:
    gram: FloatArray  # X_h,b^T X_h,b
    n: int
    cross: list[EncryptedVector]  # [[M_b]] by guest column (length d_h each)
    xy: EncryptedVector  # [[X_h,b^T y_b]]


def fit_host_gram(ctx: LRContext, roles: Roles) -> HostFit:
    p = ctx.params
    key = recv_public_key(ctx, roles.arbiter)
    frame = align_to(train_frame(ctx), list(ctx.recv(SAMPLE_IDS, roles.guest)))
    x = np.asarray(frame.features, dtype=np.float64)
    batches = batch_positions(ctx.recv(BATCH_INFO, roles.guest), frame.count)
    local = _host_batches(ctx, roles, key, x, batches)
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
        local,
        lambda b, w: _host_step(ctx, roles, key, b, w, opt),
        lambda w, _epoch: validate_host(ctx, roles, result.header, w),
    )
    result.coef = w
    return result


def _host_batches(
    ctx: LRContext, roles: Roles, key: PublicKey, x: FloatArray, batches: list[Indices]
) -> list[_HostBatch]:
    """Receive the guest's encrypted columns one by one and form [[M_b]], [[v_b]] for every batch."""
    frac = matrix_frac_bits(ctx.params)
    count = ctx.recv(GRAM_COLUMNS, roles.guest)
    if not isinstance(count, int) or not 2 <= count <= 100_000:
        raise InvalidInput(f"HeteroLR: guest announced {count!r} columns")
    columns: list[list[EncryptedVector]] = [[] for _ in batches]
    for _ in range(count):
        col = recv_vector(ctx, GRAM_COLUMN, roles.guest, key)
        if len(col) != x.shape[0]:
            raise InvalidInput(f"HeteroLR: guest column of {len(col)} rows, this host has {x.shape[0]}")
        for k, idx in enumerate(batches):
            columns[k].append(col[idx].dot(x[idx], frac_bits=frac))
    out = []
    for k, idx in enumerate(batches):
        *cross, xy = columns[k]
        ctx.send(GRAM_CROSS, [c.obfuscate().to_bytes() for c in cross], [roles.guest])
        out.append(_HostBatch(x[idx].T @ x[idx], len(idx), cross, xy))
    return out


def _host_step(
    ctx: LRContext, roles: Roles, key: PublicKey, b: _HostBatch, w: FloatArray, opt: Optimizer
) -> FloatArray:
    mtw = EncryptedVector.concat([c.dot(w, frac_bits=WEIGHT_FRAC_BITS) for c in b.cross])
    send_vector(ctx, GRAM_HOST_PART, mtw.obfuscate(), [roles.guest])
    mw = recv_vector(ctx, GRAM_GUEST_PART, roles.guest, key)  # [[M w_g]]
    own = 0.25 * (b.gram @ w)
    grad = mean_of(mw.mul(0.25, frac_bits=2) + b.xy.mul(-0.5, frac_bits=1) + own, b.n)
    grad = grad + opt.penalized_gradient(np.zeros_like(w), w)
    send_vector(ctx, HOST_GRADIENT, grad.obfuscate(), [roles.arbiter])
    # Host's share of the loss: (-0.5 v.w_h + 0.125 (2 w_h.(M w_g) + w_h' G_h w_h)) / n + reg.
    cross = mw.dot(w, frac_bits=WEIGHT_FRAC_BITS).mul(0.25, frac_bits=2)
    yterm = b.xy.dot(w, frac_bits=WEIGHT_FRAC_BITS).mul(-0.5, frac_bits=1)
    plain = 0.125 * float(w @ b.gram @ w) / b.n + opt.regularization_loss(w)
    loss = mean_of(cross + yterm, b.n) + plain
    send_vector(ctx, LOSS_INTERMEDIATE, loss.obfuscate(), [roles.guest])
    delta = np.asarray(ctx.recv(HOST_OPTIM_GRADIENT, roles.arbiter), dtype=np.float64)
    return opt.apply(w, delta)


__all__ = ["fit_guest_gram", "fit_host_gram"]
