"""What every HeteroLR party shares: message names, ciphertext wire helpers, the training setup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fedloom.components._lr_params import HeteroLRParams
from fedloom.components.api import Context, Party, peers
from fedloom.errors import InvalidInput
from fedloom.ml.optim import Optimizer
from fedloom.ml.paillier import MATRIX_FRAC_BITS, EncryptedVector, PublicKey
from fedloom.storage.frame import Frame

FloatArray = npt.NDArray[np.float64]
LRContext = Context[HeteroLRParams]
MODULE = "HeteroLR"

# FATE's transfer variable names (HeteroLRTransferVariable), plus the one-off id alignment.
PUBKEY = "paillier_pubkey"
SAMPLE_IDS = "sample_ids"
BATCH_INFO = "batch_info"
HOST_FORWARD = "host_forward"
FORE_GRADIENT = "fore_gradient"
LOSS_INTERMEDIATE = "loss_intermediate"
GUEST_GRADIENT = "guest_gradient"
HOST_GRADIENT = "host_gradient"
GUEST_OPTIM_GRADIENT = "guest_optim_gradient"
HOST_OPTIM_GRADIENT = "host_optim_gradient"
LOSS = "loss"
CONVERGE_FLAG = "converge_flag"
HOST_PROB = "host_prob"

# Dividing an encrypted sum by the batch size is a product with round(2^40 / n) at 2^-40: relative
# error ~n * 2^-40, far below the fixed-point error of the data, at the cost of 30 short exponents.
INV_BATCH_FRAC_BITS = 40


@dataclass(frozen=True)
class Roles:
    """The parties of one HeteroLR task, seen from any of them."""

    guest: Party
    hosts: list[Party]
    arbiter: Party

    @property
    def with_loss(self) -> bool:
        # With several hosts the guest cannot form the cross terms wx_h * wx_h' of the loss (FATE).
        return len(self.hosts) == 1

    @property
    def asynchronous(self) -> bool:
        """FATE's async mode (one host): each side builds its gradient from the other's encrypted half.

        With several hosts a host's gradient needs every other host's part too, so the guest sends
        the full encrypted residual instead.
        """
        return len(self.hosts) == 1


def roles_of(ctx: LRContext) -> Roles:
    guests, hosts, arbiters = peers(ctx, "guest"), peers(ctx, "host"), peers(ctx, "arbiter")
    if len(guests) != 1 or not hosts or len(arbiters) != 1:
        raise InvalidInput(
            f"HeteroLR needs one guest, at least one host and one arbiter; got {len(guests)} guest(s), "
            f"{len(hosts)} host(s), {len(arbiters)} arbiter(s)"
        )
    roles = Roles(guests[0], hosts, arbiters[0])
    if not roles.with_loss and ctx.params.early_stop != "weight_diff":
        raise InvalidInput(
            f'HeteroLR with {len(hosts)} hosts cannot compute the loss: set early_stop "weight_diff" '
            f'(got "{ctx.params.early_stop}")'
        )
    return roles


def make_optimizer(p: HeteroLRParams) -> Optimizer:
    return Optimizer(p.optimizer, p.learning_rate, p.alpha, p.penalty, p.decay, p.decay_sqrt)


def matrix_frac_bits(p: HeteroLRParams) -> int:
    return MATRIX_FRAC_BITS if p.floating_point_precision is None else p.floating_point_precision


def send_vector(ctx: LRContext, name: str, vector: EncryptedVector, to: list[Party]) -> None:
    ctx.send(name, vector.to_bytes(), to)


def recv_vector(ctx: LRContext, name: str, frm: Party, key: PublicKey) -> EncryptedVector:
    data = ctx.recv(name, frm)
    if not isinstance(data, bytes):
        raise InvalidInput(f"HeteroLR: message {name!r} from {frm[0]} {frm[1]} is not a ciphertext vector")
    return EncryptedVector.from_bytes(key, data)


def recv_public_key(ctx: LRContext, frm: Party) -> PublicKey:
    return PublicKey.from_dict(ctx.recv(PUBKEY, frm))


def mean_of(vector: EncryptedVector, count: int) -> EncryptedVector:
    """vector / count with INV_BATCH_FRAC_BITS of precision on the divisor."""
    return vector.mul(1.0 / count, frac_bits=INV_BATCH_FRAC_BITS)


def train_frame(ctx: LRContext) -> Frame:
    frames = ctx.inputs.data("train_data")
    if len(frames) != 1:
        raise InvalidInput(f"HeteroLR takes exactly one train_data table, got {len(frames)}")
    return frames[0]


def eval_frames(ctx: LRContext) -> list[tuple[str, Frame]]:
    """The (type, frame) pairs to predict on, in the same order at guest and hosts."""
    if ctx.mode == "fit":
        out = [("train", train_frame(ctx))]
        out += [("validate", f) for f in ctx.inputs.data("validate_data")]
        return out
    return [("test", f) for f in ctx.inputs.data("test_data")]


def progress_message(epoch: int, loss: float | None) -> str:
    return f"iteration {epoch}" if loss is None else f"iteration {epoch}: loss {loss:.6f}"


def model_meta(p: HeteroLRParams) -> dict[str, Any]:
    """FATE's LRModelMeta fields."""
    return {
        "penalty": p.penalty or "NONE",
        "tol": p.tol,
        "alpha": p.alpha,
        "optimizer": p.optimizer,
        "batch_size": p.batch_size,
        "learning_rate": p.learning_rate,
        "max_iter": p.max_iter,
        "early_stop": p.early_stop,
        "fit_intercept": p.init_param.fit_intercept,
        "need_one_vs_rest": False,
        "reveal_strategy": "respectively",
        "module": MODULE,
    }
