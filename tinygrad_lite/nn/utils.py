"""``nn.utils``: gradient clipping, between ``backward()`` and ``optimizer.step()``.

>>> from tinygrad_lite import Tensor, nn
>>> w = Tensor([1.0, 1.0], requires_grad=True)
>>> (w * Tensor([3.0, 4.0])).sum().backward()       # w.grad = [3, 4], of norm 5
>>> nn.utils.clip_grad_norm_([w], max_norm=1.0)      # returns the norm before clipping
Tensor(5.)
>>> w.grad                        # times 1/(5 + 1e-6): of norm 1, less 2 parts in 10**7
Tensor([0.59999988, 0.79999984])

Both change each ``.grad`` in place, as PyTorch's do (its ``mul_`` and ``copy_``, so a
graph that saved the gradient, under ``create_graph=True``, refuses the change), and skip
a parameter whose ``.grad`` is None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

# Added to the total norm before dividing by it (PyTorch's): a zero gradient stays zero.
EPS = 1e-6


@fp_quiet()
def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their total norm is at most ``max_norm``; return the
    total norm they had, a 0-d Tensor (0 when no parameter has a gradient).

    The total norm is the ``norm_type``-norm of all the gradients as one vector: the norm
    of the vector of each gradient's norm (``norm_type=inf``: the largest absolute value).
    Each gradient is multiplied by ``clip_coef = max_norm / (total_norm + 1e-6)`` if that
    is below 1, and left as it is otherwise (PyTorch's formula, which multiplies by the
    coefficient clamped to 1). As in PyTorch, an infinite total norm makes the coefficient
    0 (an infinite value becomes NaN, the others 0) and a NaN one makes every gradient NaN;
    ``error_if_nonfinite=True`` raises a RuntimeError instead. The norm is computed in the
    gradients' dtype (float32 if they all are).
    """
    name = "clip_grad_norm_"
    params = _parameters(name, parameters)
    max_norm = _limit(name, "max_norm", max_norm)
    norm_type = _limit(name, "norm_type", norm_type)
    if norm_type == 0:
        raise ValueError(f"{name}: norm_type must be above 0 (or inf), got {norm_type}")
    if not isinstance(error_if_nonfinite, (bool, np.bool_)):
        raise TypeError(
            f"{name}: error_if_nonfinite must be True or False, got {error_if_nonfinite!r}"
        )
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*[g.data.dtype for g in grads])
    norms = np.array([_norm(g.data, norm_type) for g in grads], dtype=dtype)
    total = _norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"{name}: the total norm of order {norm_type} of the gradients is {total}, so "
            f"they cannot be clipped; leave error_if_nonfinite=False to clip them anyway (the "
            f"gradients become NaN)"
        )
    clip_coef = float(max_norm / (total + EPS))
    if not clip_coef >= 1.0:  # (NaN too: the gradients become NaN, as PyTorch's do)
        for g in grads:
            g.mul_(clip_coef)
    return Tensor(total, dtype=norms.dtype)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient's values to ``[-clip_value, clip_value]`` (NaN stays NaN)."""
    params = _parameters("clip_grad_value_", parameters)
    clip_value = _limit("clip_grad_value_", "clip_value", clip_value)
    for p in params:
        if p.grad is not None:
            p.grad.copy_(np.clip(p.grad.data, -clip_value, clip_value))


def _norm(x: np.ndarray, norm_type: float) -> Any:
    """The ``norm_type``-norm of the values of x, as one vector (0 for no values), a numpy
    number of x's dtype."""
    if x.size == 0:
        return x.dtype.type(0)
    return np.linalg.norm(x.ravel(), norm_type)


def _parameters(name: str, parameters: Any) -> list[Tensor]:
    """The distinct Tensors of ``parameters`` (one Tensor, or an iterable of them) whose
    ``.grad`` is a Tensor or None; anything else is a TypeError."""
    accepted = "a Tensor or an iterable of Tensors, such as model.parameters()"
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif hasattr(parameters, "parameters"):
        raise TypeError(
            f"{name}: got a {type(parameters).__name__}; accepted: {accepted} (pass its "
            f".parameters())"
        )
    try:
        items = list(parameters)
    except TypeError:
        raise TypeError(f"{name}: got {type(parameters).__name__}; accepted: {accepted}") from None
    params: dict[int, Tensor] = {}
    for i, p in enumerate(items):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is {type(p).__name__}; accepted: {accepted}")
        if p.grad is not None and not isinstance(p.grad, Tensor):
            raise TypeError(
                f"{name}: parameter {i} has a .grad of {type(p.grad).__name__}; accepted: a "
                f"Tensor or None"
            )
        params.setdefault(id(p), p)  # a tensor given twice is clipped once
    return list(params.values())


def _limit(name: str, what: str, value: Any) -> float:
    """A real number >= 0, inf included (no limit), or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a real number, got {value!r}")
    value = float(value)
    if not value >= 0:  # (NaN too)
        raise ValueError(f"{name}: {what} must be a number >= 0 (inf allowed), got {value}")
    return value
