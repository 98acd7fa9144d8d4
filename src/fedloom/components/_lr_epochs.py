"""The epoch loop every HeteroLR training party runs, and validation during training (`validation_freqs`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from fedloom.components._lr_common import CONVERGE_FLAG, FloatArray, LRContext, Roles, progress_message
from fedloom.components._lr_predict import LinearPart, predict_guest, predict_host
from fedloom.ml.metrics import evaluate
from fedloom.ml.optim import Optimizer

_TYPES = {"auc": "AUC", "ks": "KS"}
B = TypeVar("B")


def run_epochs(
    ctx: LRContext,
    roles: Roles,
    opt: Optimizer,
    w: FloatArray,
    batches: Sequence[B],
    step: Callable[[B, FloatArray], FloatArray],
    validate: Callable[[FloatArray, int], None],
) -> tuple[FloatArray, int, bool]:
    """Up to max_iter epochs of `step` over the batches; stops when the arbiter's flag says converged.

    Returns the weights, the epochs run and whether training converged.
    """
    p = ctx.params
    iters, converged = 0, False
    for epoch in range(p.max_iter):
        opt.set_iteration(epoch)
        for batch in batches:
            w = step(batch, w)
        converged = bool(ctx.recv(CONVERGE_FLAG, roles.arbiter)["converged"])
        iters = epoch + 1
        ctx.progress(iters / p.max_iter, progress_message(epoch, None))
        if due(ctx, epoch):
            validate(w, epoch)
        if converged:
            break
    return w, iters, converged


def due(ctx: LRContext, epoch: int) -> bool:
    """FATE's rule: every `validation_freqs` iterations (an int), or at the listed iterations (1-based)."""
    p = ctx.params
    if p.validation_freqs is None or not ctx.inputs.has("validate_data"):
        return False
    if isinstance(p.validation_freqs, int):
        return p.validation_freqs > 0 and (epoch + 1) % p.validation_freqs == 0
    return (epoch + 1) in p.validation_freqs


def validate_host(ctx: LRContext, roles: Roles, header: list[str], w: FloatArray) -> None:
    """The host's share: its plaintext w.x per validation row, as in FATE's prediction."""
    frames = [("validate", f) for f in ctx.inputs.data("validate_data")]
    predict_host(ctx, roles.guest, LinearPart(header, w), frames)


def validate_guest(ctx: LRContext, roles: Roles, header: list[str], w: FloatArray, epoch: int) -> None:
    """Score the validation rows with the current weights and log AUC and KS for this iteration."""
    p = ctx.params
    coef, intercept = (w[:-1], float(w[-1])) if p.init_param.fit_intercept else (w, 0.0)
    frames = [("validate", f) for f in ctx.inputs.data("validate_data")]
    out = predict_guest(
        ctx, roles.hosts, LinearPart(header, coef, intercept), frames, p.predict_param.threshold
    )
    label = np.asarray(out.extra["label"], dtype=np.float64)
    keep = ~np.isnan(label)
    if not keep.any() or np.unique(label[keep]).size < 2:
        ctx.log.warning("validation at iteration %d skipped: validate_data needs both classes", epoch)
        return
    score = np.asarray(out.extra["predict_score"], dtype=np.float64)[keep]
    summary = evaluate("binary", label[keep], score, metrics=list(_TYPES)).summary()
    for name, value in summary.items():
        meta = {"metric_type": _TYPES.get(name, name.upper()), "unit_name": "iters"}
        ctx.metrics.log("validate", f"{ctx.component_name}_{name}", [(epoch, float(value))], meta)
    ctx.progress(
        min(1.0, (epoch + 1) / p.max_iter),
        f"iteration {epoch}: validation " + ", ".join(f"{k} {v:.4f}" for k, v in summary.items()),
    )


__all__ = ["due", "run_epochs", "validate_guest", "validate_host"]
