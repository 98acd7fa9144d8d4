"""HeteroLR: vertical logistic regression with Paillier, FATE 1.x's protocol (async variant, arbiter-held key)."""

from __future__ import annotations

from fedloom.components._lr_arbiter import fit_arbiter
from fedloom.components._lr_common import MODULE, LRContext, Roles, eval_frames, model_meta, roles_of
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
from fedloom.components.api import Component, ModelArtifact, Party, peers
from fedloom.errors import InvalidInput

hetero_lr = Component(
    MODULE,
    HeteroLRParams,
    description="Vertical logistic regression: Paillier-encrypted gradients, arbiter-held key (FATE 1.x).",
    outputs_data=("data",),
    outputs_model=("model",),
)

# The fit handlers are registered for every mode but predict: a HeteroLR with neither train_data nor
# test_data nor a model input ("transform") fails in fit, asking for its train_data.


@hetero_lr.arbiter()
def fit_arbiter_task(ctx: LRContext) -> None:
    fit = fit_arbiter(ctx, roles_of(ctx))
    # FATE's arbiter keeps no model: an empty param marks that it took part.
    ctx.outputs.set_model(ModelArtifact(MODULE, {}, model_meta(ctx.params)))
    ctx.outputs.set_summary(
        {"iters": fit.iters, "is_converged": fit.converged, "loss_history": fit.loss_history}
    )


def _moments(ctx: LRContext, roles: Roles) -> bool:
    """Second-moment protocol: with exactly one host (it needs no host-to-host cross terms)."""
    protocol = ctx.params.protocol
    if protocol == "moments" and len(roles.hosts) != 1:
        raise InvalidInput(f'HeteroLR: protocol "moments" needs exactly one host, got {len(roles.hosts)}')
    return protocol == "moments" or (protocol == "auto" and len(roles.hosts) == 1)


@hetero_lr.guest()
def fit_guest_task(ctx: LRContext) -> None:
    roles = roles_of(ctx)
    fit = fit_guest_gram(ctx, roles) if _moments(ctx, roles) else fit_guest(ctx, roles)
    param = fit.param()
    ctx.outputs.set_model(ModelArtifact(MODULE, param, model_meta(ctx.params)))
    part = LinearPart(fit.header, fit.coef, fit.intercept)
    ctx.outputs.set_data(
        predict_guest(ctx, roles.hosts, part, eval_frames(ctx), ctx.params.predict_param.threshold)
    )
    ctx.outputs.set_summary(
        {
            "coef": param["weight"],
            "intercept": fit.intercept,
            "is_converged": fit.converged,
            "iters": fit.iters,
            "one_vs_rest": False,
            "best_iteration": -1,
        }
    )


@hetero_lr.host()
def fit_host_task(ctx: LRContext) -> None:
    roles = roles_of(ctx)
    fit = fit_host_gram(ctx, roles) if _moments(ctx, roles) else fit_host(ctx, roles)
    param = fit.param()
    ctx.outputs.set_model(ModelArtifact(MODULE, param, model_meta(ctx.params)))
    predict_host(ctx, roles.guest, LinearPart(fit.header, fit.coef), eval_frames(ctx))
    ctx.outputs.set_summary({"coef": param["weight"], "is_converged": fit.converged, "iters": fit.iters})


# Prediction needs no key and no arbiter: hosts send plaintext w.x per id, as in FATE.


@hetero_lr.arbiter("predict")
def predict_arbiter_task(ctx: LRContext) -> None:
    """FATE's arbiter takes no part in prediction."""


@hetero_lr.guest("predict")
def predict_guest_task(ctx: LRContext) -> None:
    part, guests, hosts = _predict_setup(ctx)
    frame = predict_guest(ctx, hosts, part, eval_frames(ctx), ctx.params.predict_param.threshold)
    ctx.outputs.set_data(frame)
    ctx.outputs.set_summary({"count": frame.count})


@hetero_lr.host("predict")
def predict_host_task(ctx: LRContext) -> None:
    part, guests, _ = _predict_setup(ctx)
    predict_host(ctx, guests[0], part, eval_frames(ctx))


def _predict_setup(ctx: LRContext) -> tuple[LinearPart, list[Party], list[Party]]:
    if not ctx.inputs.models:
        raise InvalidInput("HeteroLR predict needs the fitted model as input")
    part = LinearPart.from_param(ctx.inputs.models[0].param)
    guests, hosts = peers(ctx, "guest"), peers(ctx, "host")
    if len(guests) != 1 or not hosts:
        raise InvalidInput("HeteroLR predict needs one guest and at least one host")
    return part, guests, hosts


SPEC = hetero_lr.spec()

__all__ = [
    "SPEC",
    "CVParam",
    "EncryptParam",
    "EncryptedModeCalculatorParam",
    "HeteroLRParams",
    "InitParam",
    "PredictParam",
    "hetero_lr",
]
