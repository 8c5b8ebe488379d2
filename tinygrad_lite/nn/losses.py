"""Loss functions: each a composition of Tensor ops (or one fused op), in one fp_quiet call."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.ops import SSELoss
from tinygrad_lite.tensor import Tensor

# ----------------------------------------------------------------------------- losses
# Each loss is a composition of Tensor ops, so its backward comes for free, and is one
# fp_quiet call. pred and target must have the same shape: numpy would broadcast (4, 1)
# against (4,) to (4, 4) and return a wrong loss without a word.


def _target(loss: str, pred: Any, target: Any) -> Tensor:
    """target as a Tensor of pred's shape, or a clear error."""
    if not isinstance(pred, Tensor):
        raise TypeError(
            f"{loss}: pred must be a Tensor (a model's output), got {type(pred).__name__}"
        )
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if pred.data.shape != target.data.shape:
        raise ValueError(
            f"{loss}: pred has shape {pred.data.shape} but target has shape "
            f"{target.data.shape}; they must be equal (reshape one of them: no broadcasting here)"
        )
    return target


@fp_quiet()
def sse_loss(pred: Tensor, target: Any) -> Tensor:
    """L = 0.5 * sum((target - pred)**2), the loss the seed's hand-written deltas descend.

    dL/dpred = -(target - pred); through a sigmoid ``out``, dL/dz = -(target - out) *
    out*(1-out), which is minus the seed's ``delta = error*slope``. So SGD with lr=1 on this
    loss repeats the seed's ``w += dot(X.T, delta)`` exactly.
    """
    target = _target("sse_loss", pred, target)
    return SSELoss.apply(pred, target)


@fp_quiet()
def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """L = mean((pred - target)**2)."""
    target = _target("mse_loss", pred, target)
    d = pred - target
    return (d * d).mean()


@fp_quiet()
def binary_cross_entropy(prob: Tensor, target: Any, eps: float | None = None) -> Tensor:
    """L = mean(-(target*log(p) + (1-target)*log(1-p))), p = prob clipped to [eps, 1-eps].

    ``prob`` holds probabilities (a sigmoid's output); values outside [0, 1] are a
    ValueError, as they usually mean logits were passed (use
    ``binary_cross_entropy_with_logits``). The clip keeps log away from 0, so the loss is
    at most -log(eps) per element; ``eps`` defaults to the dtype's machine epsilon (2.2e-16
    for float64, 1.2e-7 for float32, where 1 - 1e-12 would round to 1). In the clipped
    region the gradient is 0, as for PyTorch's clamp.
    """
    target = _target("binary_cross_entropy", prob, target)
    p = prob.data
    if eps is None:
        eps = float(np.finfo(p.dtype).eps)
    elif not 0 < eps < 0.5:
        raise ValueError(f"binary_cross_entropy: eps must be in (0, 0.5), got {eps!r}")
    outside_01 = (p < 0) | (p > 1)
    if outside_01.any():
        raise ValueError(
            f"binary_cross_entropy: prob must hold probabilities in [0, 1], got values from "
            f"{p[outside_01].min()} to {p[outside_01].max()} outside it; for logits use "
            f"binary_cross_entropy_with_logits"
        )
    clipped = (p < eps) | (p > 1 - eps)
    if clipped.any():
        # prob * 1 + 0 is prob exactly where it is inside; the bound, a constant, where not.
        prob = prob * ~clipped + np.clip(p, eps, 1 - eps) * clipped
    return -(target * prob.log() + (1 - target) * (1 - prob).log()).mean()


@fp_quiet()
def binary_cross_entropy_with_logits(logits: Tensor, target: Any) -> Tensor:
    """L = mean(max(z, 0) - z*y + log(1 + exp(-|z|))) for z = logits, y = target.

    The same loss as ``binary_cross_entropy(sigmoid(z), y)``, finite for every finite z:
    exp only ever sees -|z| <= 0. dL/dz = (sigmoid(z) - y) / n.

    Written as ``z*(m - y) + log(1 + exp(-(z*s)))`` with two constants read off the data:
    m = 1 where z >= 0, else 0 (so z*m = max(z, 0)), and s = 1 where z >= 0, else -1 (so
    z*s = |z|). With them the gradient is ``(m - y) - s*sigmoid(-|z|)``: where a prediction
    is confidently right, m - y is exactly 0 and the tiny sigmoid(-|z|) survives (a
    0.5*(z + |z|) form would round it away against 0.5); and at z = 0 the sides agree on
    s = 1, giving 0.5 - y (relu's and abs's own kinks would give -y). Per-element losses
    below 1e-16 round to 0 (log(1 + e) rather than log1p(e)).
    """
    target = _target("binary_cross_entropy_with_logits", logits, target)
    z = logits
    m = z.data >= 0
    s = np.where(m, 1.0, -1.0)
    return (z * (m - target) + (1 + (-(z * s)).exp()).log()).mean()
