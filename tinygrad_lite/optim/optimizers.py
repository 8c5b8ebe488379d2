"""Optimizers: update parameters in place from their ``.grad``.

>>> from tinygrad_lite import Tensor, optim
>>> w = Tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.5)
>>> (w * w).sum().backward()        # w.grad = 2*w
>>> opt.step()                      # w -= 0.5 * w.grad
>>> w
Tensor([0., 0.], requires_grad=True, grad=[ 2., -4.])

An update changes each parameter's array in place and dates the change (``_version``), as
the Tensor's in-place methods do: a backward through a graph that saved the old value raises
instead of returning a stale gradient. (The optimizers call the step those methods share,
``Tensor._update``, directly: their parameters are leaves, checked when the optimizer was
made, and each update is an array of its parameter's shape, checked here; the methods'
own checks and ``no_grad`` would cost more than the update on a small network.) A
parameter whose ``.grad`` is None (the loss did not reach it) is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.tensor import Tensor

# Bytes from which glibc serves a new array from the top of its heap or from the system
# (M_MMAP_THRESHOLD's default, 128 KiB), not from blocks freed a moment ago.
LARGE = 128 * 1024


class Optimizer:
    """Holds the parameters (a list made from any iterable of Tensors) and clears grads."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = _check_params(type(self).__name__, params)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's form).

    Without momentum: ``p -= lr * grad``. With it: ``v = momentum*v + grad`` (v starts as
    the first grad), then ``p -= lr * v``. With lr=1 the update is the seed's
    ``w += dot(X.T, delta)`` bit for bit, since ``grad = -dot(X.T, delta)`` exactly.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _check_number("SGD", "lr", lr, 0.0, math.inf)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0, high_open=True)
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)
        # lr * grad of a large parameter, in an array kept for it (see _times_lr).
        self.scaled: list[np.ndarray | None] = [None] * len(self.params)

    # One fp_quiet for all parameters: lr * grad may overflow.
    @fp_quiet()
    def step(self) -> None:
        """Move every parameter that has a gradient one step down it."""
        if not self.momentum:  # the hot path of plain gradient descent
            for i, p in enumerate(self.params):
                grad = p.grad
                if grad is not None:
                    p._update(np.subtract, self._times_lr(i, _gradient(self, p, grad)))
            return
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = g.copy()
            else:
                v *= self.momentum
                v += g
            p._update(np.subtract, self._times_lr(i, v))

    def _times_lr(self, i: int, g: np.ndarray) -> np.ndarray:
        """``lr * g``; for a large g, in an array kept for parameter i (made anew if g's
        shape or dtype changed), rather than in a new array at each step.

        On the MLP benchmark (W3) the new array, 1.6 MB for the first weight, was freed at
        the end of each step next to the gradient that zero_grad frees; glibc then gave the
        memory back to the system and took it again, page by page, at the next step: 750
        page faults, a fifth of the step. Small arrays come and go from memory that numpy
        and glibc keep at hand, and a kept array would only cost a lookup.
        """
        # (tl.compile's Traced arrays take a new array too: a compiled step plans every
        # temporary's buffer itself, codegen.py.)
        if g.nbytes < LARGE or type(g) is not np.ndarray:
            return self.lr * g
        scaled = self.scaled[i]
        if scaled is None or scaled.shape != g.shape or scaled.dtype != g.dtype:
            scaled = self.scaled[i] = np.empty_like(g)
        return np.multiply(self.lr, g, out=scaled)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with bias correction.

    With g = grad and t the number of steps this parameter has taken::

        m = beta1*m + (1-beta1)*g          v = beta2*v + (1-beta2)*g*g
        p -= lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + eps)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = _check_number("Adam", "lr", lr, 0.0, math.inf)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number("Adam", "betas[0]", betas[0], 0.0, 1.0, high_open=True),
            _check_number("Adam", "betas[1]", betas[1], 0.0, 1.0, high_open=True),
        )
        self.eps = _check_number("Adam", "eps", eps, 0.0, math.inf)
        n = len(self.params)
        self.steps = [0] * n
        self.m: list[np.ndarray | None] = [None] * n  # running mean of the gradient
        self.v: list[np.ndarray | None] = [None] * n  # running mean of its square

    @fp_quiet()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            m, v = self.m[i], self.v[i]
            if m is None or v is None:
                m = self.m[i] = np.zeros_like(p.data)
                v = self.v[i] = np.zeros_like(p.data)
            self.steps[i] += 1
            t = self.steps[i]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p._update(np.subtract, self.lr * m_hat / (np.sqrt(v_hat) + self.eps))


def _gradient(optimizer: Optimizer, p: Tensor, grad: Any) -> np.ndarray:
    """``p.grad``'s array, or a clear error if it cannot update p (a ``.grad`` set by hand)."""
    g = grad.data if isinstance(grad, Tensor) else None
    if not isinstance(g, np.ndarray) or g.shape != p.data.shape:
        got = f"shape {g.shape}" if isinstance(g, np.ndarray) else type(grad).__name__
        raise ValueError(
            f"{type(optimizer).__name__}.step: a parameter of shape {p.data.shape} has a "
            f".grad of {got}; accepted: a Tensor of the parameter's shape"
        )
    return g


def _check_params(name: str, params: Any) -> list[Tensor]:
    """params as a list of distinct leaf Tensors that require grad, or a clear error."""
    accepted = "an iterable of Tensors that require grad, such as model.parameters()"
    if isinstance(params, Tensor) or hasattr(params, "parameters"):
        # A Tensor is iterable (over its rows), so list() would not catch this mistake.
        raise TypeError(f"{name}: got a single {type(params).__name__}; accepted: {accepted}")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{name}: got {type(params).__name__}; accepted: {accepted}") from None
    if not params:
        raise ValueError(f"{name}: got an empty list of parameters; accepted: {accepted}")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is {type(p).__name__}; accepted: {accepted}")
        if not p.requires_grad:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) does not require grad, so it would "
                f"never move; create it with requires_grad=True or leave it out"
            )
        if not p.is_leaf:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) was computed by {p._ctx.name}; only "
                f"leaves (tensors created by the user) can be optimized"
            )
        if id(p) in seen:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) appears twice; it would be updated "
                f"twice per step"
            )
        seen.add(id(p))
    return params


def _check_number(
    name: str, what: str, value: Any, low: float, high: float, high_open: bool = False
) -> float:
    """value as a float in [low, high] (or [low, high)), or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a real number, got {value!r}")
    value = float(value)
    inside = low <= value < high if high_open else low <= value <= high
    if not inside or math.isnan(value) or math.isinf(value):
        bracket = ")" if high_open else "]"
        raise ValueError(
            f"{name}: {what} must be a finite number in [{low}, {high}{bracket}, got {value}"
        )
    return value
