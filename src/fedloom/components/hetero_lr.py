"""HeteroLR: vertical logistic regression with Paillier, FATE 1.x's protocol (async variant, arbiter-held key)."""

from __future__ import annotations

from fedloom.components._lr_arbiter import fit_arbiter
from fedloom.components._lr_common import MODULE, Roles, eval_frames, model_meta, roles_of
from fedloom.components._lr_gram import fit_guest_gram, fit_host_gram
from fedloom.components._lr_guest import fit_guest
from fedloom.components._lr_host import fit_host
from fedloom.components._lr_params import (
    CVParam,
    EncryptedModeCalculatorParam,
    EncryptParam,
    HeteroLRParams,
    InitParam,
    PredictParam,
)
from fedloom.components._lr_predict import LinearPart, predict_guest, predict_host
from fedloom.components.api import ComponentSpec, Context, ModelArtifact, peers
from fedloom.errors import InvalidInput


def run(ctx: Context) -> None:
    if ctx.role not in ("guest", "host", "arbiter"):
        raise InvalidInput(f"HeteroLR does not run as {ctx.role}")
    if ctx.mode == "predict":
        _predict(ctx)
    elif ctx.role == "arbiter":
        _fit_arbiter(ctx)
    elif ctx.role == "guest":
        _fit_guest(ctx)
    else:
        _fit_host(ctx)


def _fit_arbiter(ctx: Context) -> None:
    fit = fit_arbiter(ctx, roles_of(ctx))
    # FATE's arbiter keeps no model: an empty param marks that it took part.
    ctx.outputs.set_model(ModelArtifact(MODULE, {}, model_meta(ctx.params)))
    ctx.outputs.set_summary({"iters": fit.iters, "is_converged": fit.converged, "loss_history": fit.loss_history})


def _moments(ctx: Context, roles: Roles) -> bool:
    """Second-moment protocol: with exactly one host (it needs no host-to-host cross terms)."""
    protocol = ctx.params.protocol
    if protocol == "moments" and len(roles.hosts) != 1:
        raise InvalidInput(f'HeteroLR: protocol "moments" needs exactly one host, got {len(roles.hosts)}')
    return protocol == "moments" or (protocol == "auto" and len(roles.hosts) == 1)


def _fit_guest(ctx: Context) -> None:
    roles = roles_of(ctx)
    fit = fit_guest_gram(ctx, roles) if _moments(ctx, roles) else fit_guest(ctx, roles)
    param = fit.param()
    ctx.outputs.set_model(ModelArtifact(MODULE, param, model_meta(ctx.params)))
    part = LinearPart(fit.header, fit.coef, fit.intercept)
    ctx.outputs.set_data(predict_guest(ctx, roles.hosts, part, eval_frames(ctx), ctx.params.predict_param.threshold))
    ctx.outputs.set_summary({"coef": param["weight"], "intercept": fit.intercept, "is_converged": fit.converged,
                             "iters": fit.iters, "one_vs_rest": False, "best_iteration": -1})


def _fit_host(ctx: Context) -> None:
    roles = roles_of(ctx)
    fit = fit_host_gram(ctx, roles) if _moments(ctx, roles) else fit_host(ctx, roles)
    param = fit.param()
    ctx.outputs.set_model(ModelArtifact(MODULE, param, model_meta(ctx.params)))
    predict_host(ctx, roles.guest, LinearPart(fit.header, fit.coef), eval_frames(ctx))
    ctx.outputs.set_summary({"coef": param["weight"], "is_converged": fit.converged, "iters": fit.iters})


def _predict(ctx: Context) -> None:
    """Prediction needs no key and no arbiter: hosts send plaintext w.x per id, as in FATE."""
    if ctx.role == "arbiter":
        return  # FATE's arbiter takes no part in prediction
    if not ctx.inputs.models:
        raise InvalidInput("HeteroLR predict needs the fitted model as input")
    part = LinearPart.from_param(ctx.inputs.models[0].param)
    guests, hosts = peers(ctx, "guest"), peers(ctx, "host")
    if len(guests) != 1 or not hosts:
        raise InvalidInput("HeteroLR predict needs one guest and at least one host")
    if ctx.role == "host":
        predict_host(ctx, guests[0], part, eval_frames(ctx))
        return
    frame = predict_guest(ctx, hosts, part, eval_frames(ctx), ctx.params.predict_param.threshold)
    ctx.outputs.set_data(frame)
    ctx.outputs.set_summary({"count": frame.count})


SPEC = ComponentSpec(
    module=MODULE,
    roles=frozenset({"guest", "host", "arbiter"}),
    params=HeteroLRParams,
    run=run,
    description="Vertical logistic regression: Paillier-encrypted gradients, arbiter-held key (FATE 1.x).",
    outputs_data=("data",),
    outputs_model=("model",),
)

__all__ = [
    "SPEC",
    "CVParam",
    "EncryptParam",
    "EncryptedModeCalculatorParam",
    "HeteroLRParams",
    "InitParam",
    "PredictParam",
    "run",
]
