"""Layers, models and losses: networks declared from parts, trained with ``backward()``.

>>> import numpy as np
>>> from tinygrad_lite import Tensor, nn
>>> model = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(0)), nn.Sigmoid())
>>> model
Sequential(
  (0): Linear(in_features=3, out_features=4, bias=True)
  (1): Sigmoid()
)
>>> [name for name, p in model.named_parameters()]
['0.weight', '0.bias']
>>> loss = nn.sse_loss(model(Tensor([[0.0, 1.0, 1.0]])), Tensor([[0.0, 1.0, 1.0, 0.0]]))
>>> loss.backward()
>>> model[0].weight.grad.shape
(3, 4)

A ``Module`` needs no registration: its parameters are the Tensors found in its attributes
(and in the Modules, lists and tuples they hold), in the order the attributes were set.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lite import init
from tinygrad_lite.function import Function
from tinygrad_lite.mode import fp_quiet, no_grad
from tinygrad_lite.ops import Matmul
from tinygrad_lite.tensor import Tensor

__all__ = [
    "IncompatibleKeys",
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "init",
    "mse_loss",
    "sse_loss",
]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` left alone (PyTorch's name and fields)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it and write ``forward``.

    Every Tensor held in an attribute is a parameter, found by walking the attributes in
    the order they were set, into nested Modules, lists and tuples; a Tensor or Module
    reached twice counts once, under the first name. There is nothing to register and no
    ``super().__init__()`` to call. Calling the module runs ``forward`` inside one
    ``fp_quiet`` (numpy's floating-point warnings off once per call, not once per op).
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    @fp_quiet()
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ parameters

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(dotted name, Tensor) for every parameter: ``[("0.weight", w), ...]``."""
        found: list[tuple[str, Tensor]] = []
        seen: set[int] = set()  # ids of the Tensors, Modules and containers already walked
        # An explicit stack rather than recursion: nesting of any depth is fine. Children go
        # on in reverse so that they come off in definition order.
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            name, value = stack.pop()
            if not isinstance(value, (Tensor, Module, list, tuple)) or id(value) in seen:
                continue  # numbers, arrays, strings, None are not parameters
            seen.add(id(value))
            if isinstance(value, Tensor):
                found.append((name, value))
                continue
            if isinstance(value, Module):
                children = list(value._attributes())
            else:
                children = [(str(i), item) for i, item in enumerate(value)]
            prefix = f"{name}." if name else ""
            stack.extend((prefix + child, item) for child, item in reversed(children))
        return found

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default): the next backward
        starts afresh, and a parameter the loss did not reach is told apart from one whose
        gradient is 0."""
        for p in self.parameters():
            p.grad = None

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of what may hold parameters; Sequential numbers its layers."""
        return iter(vars(self).items())

    # ------------------------------------------------------------------ state dict

    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's values, in the order of ``named_parameters()``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters of the same names (in place, under no_grad).

        Every name and shape is checked before anything is copied, so a state dict that
        does not fit leaves the model as it was. ``strict=True``: the names must be exactly
        the model's, else a ValueError lists the missing and unexpected ones.
        ``strict=False``: those are skipped and returned as ``IncompatibleKeys``. Shapes
        must match either way; a mismatch is a ValueError naming the parameter.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name -> array (as state_dict() or "
                f"tl.load() return), got {type(state_dict).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state_dict]
        unexpected = [str(name) for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict: the state dict does not fit this {type(self).__name__}: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}; "
                f"the model's parameters are {list(own)} (strict=False skips the misfits)"
            )
        updates = []
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else value
            if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
                what = (
                    f"an array of dtype {array.dtype}"
                    if isinstance(array, np.ndarray)
                    else type(value).__name__
                )
                raise TypeError(
                    f"load_state_dict: '{name}' is {what}; accepted: a numeric numpy array or "
                    f"a Tensor"
                )
            if array.shape != p.data.shape:
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {array.shape} in the state dict but "
                    f"{p.data.shape} in the model"
                )
            updates.append((p, array))
        with no_grad():
            for p, array in updates:
                p.copy_(array)  # bumps the version: a graph built before the load refuses it
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """The text inside this module's parentheses (its settings); empty by default."""
        return ""

    def _child_modules(self) -> list[tuple[str, Module]]:
        """The Modules held directly, or in a list or tuple attribute ("blocks.0")."""
        children = []
        for name, value in self._attributes():
            if isinstance(value, Module):
                children.append((name, value))
            elif isinstance(value, (list, tuple)):
                children += [
                    (f"{name}.{i}", m) for i, m in enumerate(value) if isinstance(m, Module)
                ]
        return children

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(settings)``, or one indented ``(name): child`` per line."""
        lines: list[str] = []
        # Items are (depth, label, module) to open, or (depth, None, None) to close a
        # bracket; an explicit stack, so nesting of any depth is fine.
        stack: list[tuple[int, str | None, Module | None]] = [(0, "", self)]
        seen: set[int] = set()
        while stack:
            depth, label, module = stack.pop()
            indent = "  " * depth
            if module is None:
                lines.append(indent + ")")
                continue
            head = f"{indent}{label}{type(module).__name__}({module.extra_repr()}"
            children = module._child_modules()
            if not children:
                lines.append(head + ")")
                continue
            if id(module) in seen:  # shown in full above (and a module inside itself ends here)
                lines.append(head + "...)")
                continue
            seen.add(id(module))
            lines.append(head)
            stack.append((depth, None, None))
            stack.extend((depth + 1, f"({name}): ", m) for name, m in reversed(children))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- layers


class Linear(Module):
    """out = x @ weight + bias, with weight of shape (in_features, out_features).

    The weight is stored as (in_features, out_features), the transpose of PyTorch's
    layout, so that the forward is the seed's ``dot(X, w)``: the same numpy matmul on the
    same operands, which reproduces the seed's numbers bit for bit. The gradients are
    ``weight.grad = x.T @ grad`` (the seed's ``dot(X.T, delta)``) and
    ``bias.grad = grad.sum(0)``.

    Default init, as PyTorch's: weight and bias from U[-1/sqrt(in_features),
    1/sqrt(in_features)), drawn (weight first) from ``rng``, a numpy Generator or
    RandomState; ``rng=None`` takes a fresh ``numpy.random.default_rng()``. For exact
    values, use ``Linear.from_weights(weight, bias)``.
    """

    weight: Tensor
    bias: Tensor | None

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: Any = None
    ) -> None:
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise TypeError(f"Linear: {name} must be an int, got {n!r}")
            if n < 1:
                raise ValueError(f"Linear: {name} must be at least 1, got {n}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {bias!r}")
        rng = np.random.default_rng() if rng is None else init.check_rng("Linear", rng)
        bound = 1.0 / math.sqrt(in_features)
        weight = init.uniform((in_features, out_features), -bound, bound, rng=rng)
        self._set(weight, init.uniform((out_features,), -bound, bound, rng=rng) if bias else None)

    @classmethod
    def from_weights(cls, weight: Any, bias: Any = None) -> Linear:
        """A Linear layer holding exactly these values (copied): weight of shape
        (in_features, out_features), bias of shape (out_features,) or None for no bias.

        >>> Linear.from_weights([[1.0], [2.0]])
        Linear(in_features=2, out_features=1, bias=False)
        """
        layer = cls.__new__(cls)
        layer._set(weight, bias)
        return layer

    def _set(self, weight: Any, bias: Any) -> None:
        weight = Tensor(weight, requires_grad=True)
        if weight.ndim != 2 or 0 in weight.shape:
            raise ValueError(
                f"Linear: weight must be 2-D (in_features, out_features), got shape {weight.shape}"
            )
        self.in_features, self.out_features = weight.shape
        self.weight = weight
        self.bias = None if bias is None else Tensor(bias, requires_grad=True, dtype=weight.dtype)
        if self.bias is not None and self.bias.shape != (self.out_features,):
            raise ValueError(
                f"Linear: bias must have shape ({self.out_features},) to fit a weight of shape "
                f"{weight.shape}, got {self.bias.shape}"
            )

    def forward(self, x: Any) -> Tensor:
        if isinstance(x, Tensor) and x.data.shape[1:] == (self.in_features,):
            # A batch of rows, the usual input: one node, without the general matmul's
            # handling of 1-D and batched operands.
            if self.bias is None:
                return Matmul.apply(x, self.weight)
            return Affine.apply(x, self.weight, self.bias)
        out: Tensor = x @ self.weight  # an array or list x is taken as a constant
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Affine(Function):
    """out = x @ w + b    dx = grad @ w.T    dw = x.T @ grad    db = grad summed over the rows

    A Linear layer with a bias, on a batch of rows (x of shape (batch, in_features)), as one
    node rather than three: Matmul, the Expand that broadcasts b to every row, and Add. Its
    results are the three's to the bit: ``x.dot(w) + b`` adds b to each row as the Expand
    and the Add do, and the gradients are the same products and the same sum over the rows
    that Expand's rule makes. On the MLP benchmark (W3) it saves six nodes a step and a
    broadcast copy of each bias; numpy can also add b into the product in place, as in a
    hand-written ``x @ w + b``.
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x.dot(w) + b  # (dot: see ops.Matmul)

    def backward(self, grad: Any, x: Any, w: Any, b: Any, out: Any) -> tuple[Any, Any, Any]:
        x_needs, w_needs, b_needs = self.needs_input_grad
        dx = grad.dot(w.T) if x_needs else None  # the data, for a first layer: skipped
        dw = x.T.dot(grad) if w_needs else None
        db = grad.sum(axis=0) if b_needs else None
        return dx, dw, db


class Sigmoid(Module):
    """out = 1/(1+exp(-x)), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).sigmoid()


class ReLU(Module):
    """out = max(x, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).relu()


class Tanh(Module):
    """out = tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).tanh()


class Sequential(Module):
    """Layers applied in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Indexable (``model[0]``, a slice gives a Sequential), ``len`` and iterable; its
    parameters are named by position (``"0.weight"``), as in PyTorch.
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                hint = ""
                if isinstance(layer, type) and issubclass(layer, Module):
                    hint = f" (the class itself: did you mean {layer.__name__}()?)"
                raise TypeError(
                    f"Sequential: layer {i} is {type(layer).__name__} {layer!r}{hint}; "
                    f"accepted: Modules such as nn.Linear(3, 4) or nn.Sigmoid()"
                )
        self.layers = layers

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            # forward rather than layer(x): fp_quiet is already on for the whole model
            x = layer.forward(x)
        return x

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential: index must be an int or a slice, got {index!r}")
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(self.layers)} layers"
            )
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


def _tensor(x: Any) -> Tensor:
    """x itself if it is a Tensor, else x as a constant Tensor (which checks what x is)."""
    return x if isinstance(x, Tensor) else Tensor(x)


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


class SSELoss(Function):
    """out = 0.5 * sum((target - pred)**2)    dpred = -grad * (target - pred)    dtarget = -dpred

    ``target - pred`` is the seed's ``error``: through a sigmoid, the engine multiplies it
    by ``out*(1-out)``, the seed's ``slope``, and gets minus its ``delta``.

    One op rather than the composition 0.5 * sum(d * d) of four: every training step of the
    seed networks runs it, and as one node it saves three forward ops and three backward
    steps (about a quarter of an XOR step). The gradient is the composition's to the bit,
    signed zeros included: Mul's two halves 0.5*grad*d add up to grad*d exactly, and Sub
    negates it.
    """

    __slots__ = ()

    def forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        error = target - pred
        # vdot: the sum of the squares in one call (BLAS's dot product), where error*error
        # and sum() are two; on the seed's four samples it is half the time of the loss.
        return np.asanyarray(0.5 * np.vdot(error, error))  # (see ops.Sum.forward)

    def backward(self, grad: Any, pred: Any, target: Any, out: Any) -> tuple[Any, Any]:
        error = target - pred
        dtarget = grad * error if self.needs_input_grad[1] else None  # the data usually
        return -grad * error, dtarget


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
