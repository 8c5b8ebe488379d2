"""Loss functions: each a composition of Tensor ops (or one fused op), in one fp_quiet call;
and ``one_hot``, the class labels of a classifier as rows of 0s and a 1."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.ops import CrossEntropy, SSELoss
from tinygrad_lite.shapes import short_repr
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


# ------------------------------------------------------------------- classification

REDUCTIONS = ("mean", "sum", "none")


@fp_quiet()
def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """L = -sum(y * log(softmax(logits)), axis=1), averaged over the N rows (``"mean"``),
    summed (``"sum"``) or one per row (``"none"``), for logits of shape (N, C).

    ``target`` is N class indices (shape (N,): ints, or whole floats such as a Tensor of
    labels, each in 0 to C-1), or class probabilities of the logits' shape (N, C). With
    indices, the loss of row i is ``logsumexp(logits[i]) - logits[i, target[i]]``.
    One fused op (``ops.CrossEntropy``, whose docstring gives the exact numpy steps): its
    gradient is ``(softmax(logits) - y) / N`` for ``"mean"``, y the one-hot rows of the
    indices or the probabilities. Finite for every finite logit.

    >>> logits = Tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    >>> loss = cross_entropy(logits, [0, 2])
    >>> loss.backward()
    >>> print(logits.grad.numpy().round(4))         # (softmax - onehot) / 2
    [[-0.0781  0.0571  0.021 ]
     [ 0.1667  0.1667 -0.3333]]
    """
    n, classes = _logits_shape("cross_entropy", logits)
    reduction = _reduction("cross_entropy", reduction)
    data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if data.ndim == 1:
        labels = _class_indices("cross_entropy", target, n, classes)
        return CrossEntropy.apply(logits, labels=labels, reduction=reduction)
    if data.shape != logits.data.shape:
        raise ValueError(
            f"cross_entropy: target has shape {data.shape}; accepted: class indices of shape "
            f"({n},) or class probabilities of the logits' shape {logits.data.shape}"
        )
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=logits.data.dtype)
    return CrossEntropy.apply(logits, target, reduction=reduction)


@fp_quiet()
def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """L = -log_probs[i, target[i]], averaged over the N rows (``"mean"``), summed
    (``"sum"``) or one per row (``"none"``), for log-probabilities of shape (N, C).

    With ``log_probs = logits.log_softmax(axis=1)`` it is ``cross_entropy(logits, target)``
    as a composition (an Index, a Neg, a mean). ``target`` holds N class indices.
    """
    n, classes = _logits_shape("nll_loss", log_probs)
    reduction = _reduction("nll_loss", reduction)
    labels = _class_indices("nll_loss", target, n, classes)
    loss = -log_probs[np.arange(n), labels]
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """A float Tensor of shape ``labels.shape + (num_classes,)``: 1.0 at each label, else 0.

    ``labels`` are class indices (ints, or whole floats such as a Tensor of labels), each in
    0 to num_classes-1; ``num_classes=-1`` takes the largest label + 1, as PyTorch does. The
    result is a constant: labels have no gradient.

    >>> one_hot([2, 0], 3)
    Tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if num_classes != -1 and (
        isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
    ):
        raise TypeError(f"one_hot: num_classes must be an int, got {short_repr(num_classes)}")
    if num_classes != -1 and num_classes < 1:
        raise ValueError(
            f"one_hot: num_classes must be at least 1 (or -1 to infer it), got {num_classes}"
        )
    indices = _class_indices("one_hot", labels, None, num_classes if num_classes > 0 else None)
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: num_classes=-1 cannot be inferred from no labels")
        num_classes = int(indices.max()) + 1
    out = np.zeros(indices.shape + (num_classes,))
    np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
    return Tensor._from_op(out)


def _logits_shape(loss: str, logits: Any) -> tuple[int, int]:
    """(N, C) of a Tensor of scores, or a clear error."""
    if not isinstance(logits, Tensor):
        raise TypeError(
            f"{loss}: the input must be a Tensor of shape (N, C) (a model's output), got "
            f"{type(logits).__name__}"
        )
    if logits.data.ndim != 2 or logits.data.shape[1] == 0:
        raise ValueError(
            f"{loss}: the input must have shape (N, C), one row of C >= 1 class scores per "
            f"sample, got shape {logits.data.shape}"
        )
    n, classes = logits.data.shape
    return n, classes


def _reduction(loss: str, reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{loss}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got "
            f"{short_repr(reduction)}"
        )
    return str(reduction)


def _class_indices(op: str, target: Any, n: int | None, classes: int | None) -> np.ndarray:
    """``target`` as an integer array of class indices in 0 to classes-1, or a clear error.

    ``n`` is the number of labels expected (a 1-D target), or None for any shape; ``classes``
    None accepts any index >= 0.
    """
    data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if data.dtype.kind not in "iuf":
        raise TypeError(
            f"{op}: class indices must be ints (or whole floats), got an array of dtype "
            f"{data.dtype}"
        )
    if n is not None and data.shape != (n,):
        raise ValueError(
            f"{op}: class indices must have shape ({n},), one per row of the input, got "
            f"shape {data.shape}"
        )
    # The checks read the values as a plain array, apart from the computation, which goes
    # on with data itself (an ndarray subclass stays one, and sees only the conversion).
    values = np.asarray(data)
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            raise ValueError(
                f"{op}: class indices must be whole numbers, got {values[~whole].flat[0]!r}"
            )
    low, high = values.min(initial=0), values.max(initial=0)
    if low < 0:
        raise IndexError(f"{op}: class index {low:g} is negative; accepted: 0 or more")
    if classes is not None and high >= classes:
        raise IndexError(
            f"{op}: class index {high:g} is out of range for {classes} classes; accepted: 0 "
            f"to {classes - 1}"
        )
    return data.astype(np.intp)
