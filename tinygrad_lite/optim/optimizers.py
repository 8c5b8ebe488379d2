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

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` follow PyTorch's update formulas,
defaults and argument order (``foreach``, ``fused``, ``maximize``, ``capturable`` and
``differentiable`` are left out). Every setting is an attribute (``opt.lr``), also reached
as PyTorch's ``opt.param_groups[0]["lr"]``, which is where ``lr_scheduler`` changes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, ClassVar

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.tensor import Tensor

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "ParamGroup",
    "RMSprop",
]

# From this size on, an array made anew at each step costs page faults (the C allocator
# gives it back to the system and takes it again), so the update keeps one (_times_lr).
LARGE = 128 * 1024


# The checks of settings, by the range they accept: each takes the optimizer's name, the
# setting's name and its value, and returns the value or raises a clear error.


def _rate(name: str, what: str, value: Any) -> float:
    """A finite real number >= 0 (lr, eps, weight_decay, lr_decay)."""
    return _check_number(name, what, value, 0.0, math.inf)


def _below_one(name: str, what: str, value: Any) -> float:
    """A real number in [0, 1): a momentum (at 1 or above it would never decay)."""
    return _check_number(name, what, value, 0.0, 1.0, high_open=True)


def _fraction(name: str, what: str, value: Any) -> float:
    """A real number in [0, 1] (dampening, alpha)."""
    return _check_number(name, what, value, 0.0, 1.0)


def _flag(name: str, what: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: {what} must be True or False, got {value!r}")
    return bool(value)


def _betas(name: str, what: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name}: {what} must be a pair (beta1, beta2), got {value!r}")
    return (_below_one(name, f"{what}[0]", value[0]), _below_one(name, f"{what}[1]", value[1]))


class Optimizer:
    """Holds the parameters (a list made from any iterable of Tensors) and clears grads.

    A subclass lists its settings in ``SETTINGS`` (name -> the check of its value) and keeps
    each as an attribute, set through ``_configure``, so that ``param_groups`` can read and
    change them with the same checks.
    """

    SETTINGS: ClassVar[dict[str, Callable[[str, str, Any], Any]]] = {}

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = _check_params(type(self).__name__, params)

    # The learning rate lives in a 0-d array (in a Tensor, ``_lr``) that the updates
    # multiply by, rather than in a Python number: a compiled step (``tl.compile``) then
    # reads it at every call, so a schedule changes it without recording the step again.
    @property
    def lr(self) -> float:
        """The learning rate (a number; ``opt.lr = 0.01`` sets it)."""
        return float(self._lr.data)

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = Tensor(float(value))

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    @property
    def param_groups(self) -> list[ParamGroup]:
        """PyTorch's list of parameter groups: here always one, a view of this optimizer
        (``opt.param_groups[0]["lr"] = 0.01`` sets ``opt.lr``, checked)."""
        return [ParamGroup(self)]

    def _configure(self, **settings: Any) -> None:
        """Check each setting against ``SETTINGS`` and keep it as an attribute."""
        name = type(self).__name__
        for what, value in settings.items():
            setattr(self, what, self.SETTINGS[what](name, what, value))

    def __repr__(self) -> str:
        settings = ", ".join(f"{what}={getattr(self, what)!r}" for what in self.SETTINGS)
        return f"{type(self).__name__}({settings})"


class ParamGroup(MutableMapping[str, Any]):
    """``optimizer.param_groups[0]``: a dict-like view of an optimizer's settings.

    ``group["lr"]`` reads ``optimizer.lr`` and ``group["lr"] = x`` sets it, checked as the
    constructor checks it; ``group["params"]`` is a copy of the parameter list. There are no
    other keys, and the parameters cannot be changed through it (make a new optimizer).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer

    def __getitem__(self, key: str) -> Any:
        if key == "params":
            return list(self.optimizer.params)
        self._known(key)
        return getattr(self.optimizer, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._known(key)
        opt = self.optimizer
        setattr(opt, key, opt.SETTINGS[key](type(opt).__name__, key, value))

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"{type(self.optimizer).__name__}: a setting cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(["params", *self.optimizer.SETTINGS])

    def __len__(self) -> int:
        return 1 + len(self.optimizer.SETTINGS)

    def __repr__(self) -> str:
        settings = {key: self[key] for key in self.optimizer.SETTINGS}
        return f"{{'params': <{len(self.optimizer.params)} tensors>, {repr(settings)[1:]}"

    def _known(self, key: str) -> None:
        opt = self.optimizer
        if key == "params":
            raise TypeError(
                f"{type(opt).__name__}: the parameters cannot be changed through param_groups; "
                f"make a new optimizer"
            )
        if key not in opt.SETTINGS:
            raise KeyError(
                f"{type(opt).__name__} has no setting {key!r}; its settings are "
                f"{', '.join(opt.SETTINGS)}"
            )


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (PyTorch's form).

    With g = grad + weight_decay*p: without momentum, ``p -= lr * g``. With it,
    ``v = momentum*v + (1-dampening)*g`` (v starts as the first g), then ``p -= lr * v``,
    or with ``nesterov=True``, ``p -= lr * (g + momentum*v)``. With lr=1 the plain update is
    the seed's ``w += dot(X.T, delta)`` bit for bit, since ``grad = -dot(X.T, delta)``
    exactly.
    """

    SETTINGS = {
        "lr": _rate,
        "momentum": _below_one,
        "dampening": _fraction,
        "weight_decay": _rate,
        "nesterov": _flag,
    }

    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params)
        self._configure(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        if self.nesterov and (not self.momentum or self.dampening):
            raise ValueError(
                f"SGD: nesterov=True needs a momentum above 0 and no dampening, got "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)
        # lr * grad of a large parameter, in an array kept for it (see _times_lr).
        self.scaled: list[np.ndarray | None] = [None] * len(self.params)

    # One fp_quiet for all parameters: lr * grad may overflow.
    @fp_quiet()
    def step(self) -> None:
        """Move every parameter that has a gradient one step down it."""
        if not (self.momentum or self.weight_decay):  # the hot path of plain gradient descent
            for i, p in enumerate(self.params):
                grad = p.grad
                if grad is not None:
                    p._update(np.subtract, self._times_lr(i, _gradient(self, p, grad)))
            return
        momentum, dampening, weight_decay = self.momentum, self.dampening, self.weight_decay
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            if weight_decay:
                g = g + weight_decay * p.data
            if momentum:
                v = self.velocity[i]
                if v is None:
                    # A copy as an array: g + weight_decay*p of 0-d arrays is a numpy
                    # scalar, which *= below would replace instead of changing.
                    v = self.velocity[i] = np.array(g, subok=True)
                else:
                    v *= momentum
                    v += (1 - dampening) * g if dampening else g
                g = g + momentum * v if self.nesterov else v
            p._update(np.subtract, self._times_lr(i, g))

    def _times_lr(self, i: int, g: np.ndarray) -> np.ndarray:
        """``lr * g``; for a large g, in an array kept for parameter i (made anew if g's
        shape or dtype changed), rather than in a new array at each step.

        A large array made anew at each step is taken from the system page by page
        (docs/performance.md, "Memory"); small ones come from memory the allocator keeps at
        hand, and a kept array would only cost a lookup.
        """
        # (An ndarray subclass takes a new array too: whoever made it plans its buffers.)
        if g.nbytes < LARGE or type(g) is not np.ndarray:
            return _times(self._lr.data, g)
        scaled = self.scaled[i]
        if scaled is None or scaled.shape != g.shape or scaled.dtype != g.dtype:
            scaled = self.scaled[i] = np.empty_like(g)
        return np.multiply(self._lr.data, g, out=scaled, dtype=g.dtype)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with bias correction; PyTorch's form and defaults.

    With g = grad (+ weight_decay*p, an L2 penalty: see ``AdamW`` for the decoupled decay)
    and t the number of steps this parameter has taken::

        m = beta1*m + (1-beta1)*g          v = beta2*v + (1-beta2)*g*g
        p -= lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + eps)

    With ``amsgrad=True``, the largest v seen so far stands for v in the last line.
    """

    SETTINGS = {
        "lr": _rate,
        "betas": _betas,
        "eps": _rate,
        "weight_decay": _rate,
        "amsgrad": _flag,
    }

    betas: tuple[float, float]
    eps: float
    weight_decay: float
    amsgrad: bool
    # AdamW: the weight decay scales p by (1 - lr*weight_decay) instead of adding to g.
    decoupled_weight_decay: ClassVar[bool] = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params)
        self._configure(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        n = len(self.params)
        # The steps each parameter has taken, in a 0-d array (see _count).
        self.steps: list[np.ndarray | None] = [None] * n
        self.m: list[np.ndarray | None] = [None] * n  # running mean of the gradient
        self.v: list[np.ndarray | None] = [None] * n  # running mean of its square
        self.v_max: list[np.ndarray | None] = [None] * n  # amsgrad: the largest v so far

    @fp_quiet()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            if self.weight_decay:
                if self.decoupled_weight_decay:
                    decay = 1 - self._lr.data * self.weight_decay
                    p._update(np.multiply, decay.astype(p.data.dtype, copy=False))
                else:
                    g = g + self.weight_decay * p.data
            m, v = self.m[i], self.v[i]
            if m is None or v is None:
                m = self.m[i] = np.zeros_like(p.data)
                v = self.v[i] = np.zeros_like(p.data)
            t = _count(self.steps, i, p.data)
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            if self.amsgrad:
                v_max = self.v_max[i]
                if v_max is None:
                    v_max = self.v_max[i] = v.copy()
                v = np.maximum(v_max, v, out=v_max)
            m_hat = np.divide(m, 1 - beta1**t, dtype=m.dtype)
            v_hat = np.divide(v, 1 - beta2**t, dtype=v.dtype)
            p._update(np.subtract, _times(self._lr.data, m_hat) / (np.sqrt(v_hat) + self.eps))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's form: each
    step first scales p by ``1 - lr*weight_decay``, then takes Adam's step on the plain
    gradient. Its default ``weight_decay`` is 0.01, PyTorch's.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's form and defaults.

    With g = grad + weight_decay*p::

        s = alpha*s + (1-alpha)*g*g             the running mean of the squared gradient
        avg = sqrt(s) + eps                     centered: sqrt(s - a*a) + eps, with
                                                a = alpha*a + (1-alpha)*g
        p -= lr * g / avg                       momentum: b = momentum*b + g/avg; p -= lr*b

    (s, a and b start at 0.)
    """

    SETTINGS = {
        "lr": _rate,
        "alpha": _fraction,
        "eps": _rate,
        "weight_decay": _rate,
        "momentum": _below_one,
        "centered": _flag,
    }

    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params)
        self._configure(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )
        n = len(self.params)
        self.square_avg: list[np.ndarray | None] = [None] * n
        self.grad_avg: list[np.ndarray | None] = [None] * n  # centered only
        self.buffer: list[np.ndarray | None] = [None] * n  # momentum only

    @fp_quiet()
    def step(self) -> None:
        """One RMSprop update of every parameter that has a gradient."""
        alpha = self.alpha
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            s = self.square_avg[i]
            if s is None:
                s = self.square_avg[i] = np.zeros_like(p.data)
            s *= alpha
            s += (1 - alpha) * g * g
            if self.centered:
                a = self.grad_avg[i]
                if a is None:
                    a = self.grad_avg[i] = np.zeros_like(p.data)
                a *= alpha
                a += (1 - alpha) * g
                avg = np.sqrt(s - a * a) + self.eps
            else:
                avg = np.sqrt(s) + self.eps
            if self.momentum:
                b = self.buffer[i]
                if b is None:
                    b = self.buffer[i] = np.zeros_like(p.data)
                b *= self.momentum
                b += g / avg
                p._update(np.subtract, _times(self._lr.data, b))
            else:
                p._update(np.subtract, _times(self._lr.data, g) / avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's form and defaults.

    With g = grad + weight_decay*p and t the number of steps this parameter has taken::

        clr = lr / (1 + (t-1)*lr_decay)
        sum += g*g                              (sum starts at initial_accumulator_value)
        p -= clr * g / (sqrt(sum) + eps)

    Each parameter's step shrinks as its squared gradients add up. (The classic
    min-char-rnn divides by ``sqrt(sum + 1e-8)`` instead, which shortens the first steps of
    small gradients; docs/tutorial.md, chapter 7, compares the two.)
    """

    SETTINGS = {
        "lr": _rate,
        "lr_decay": _rate,
        "weight_decay": _rate,
        "initial_accumulator_value": _rate,
        "eps": _rate,
    }

    lr_decay: float
    weight_decay: float
    initial_accumulator_value: float
    eps: float

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params)
        self._configure(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        n = len(self.params)
        self.steps: list[np.ndarray | None] = [None] * n  # (see _count)
        self.sum: list[np.ndarray | None] = [None] * n  # the squared gradients, added up

    @fp_quiet()
    def step(self) -> None:
        """One Adagrad update of every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _gradient(self, p, p.grad)
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            total = self.sum[i]
            if total is None:
                total = self.sum[i] = np.full_like(p.data, self.initial_accumulator_value)
            t = _count(self.steps, i, p.data)
            clr = self._lr.data / (1 + (t - 1) * self.lr_decay) if self.lr_decay else self._lr.data
            total += g * g
            p._update(np.subtract, _times(clr, g) / (np.sqrt(total) + self.eps))


def _times(rate: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``rate * g`` in g's dtype: the 0-d float64 rate is rounded to g's dtype first, as a
    Python number would be (``lr * g32`` stays float32)."""
    scaled = np.multiply(rate, g, dtype=g.dtype)
    return scaled


def _count(steps: list[np.ndarray | None], i: int, like: np.ndarray) -> np.ndarray:
    """Count a step of parameter i; returns its count so far (1 at the first step).

    The count is a 0-d float64 array changed in place, not a Python int, and the numbers
    made from it (Adam's bias corrections) are numpy's arithmetic on it: a compiled step
    then computes them at every call, rather than taking the first call's as constants.
    (Made from the parameter's array, so that a recording sees where it comes from.)
    """
    t = steps[i]
    if t is None:
        t = steps[i] = np.zeros_like(like, dtype=np.float64, shape=())
    t += 1
    return t


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
