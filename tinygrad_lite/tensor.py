"""Tensor: a numpy array that remembers how it was computed, so it can be differentiated.

>>> from tinygrad_lite import Tensor
>>> w = Tensor([[0.5], [-1.0]], requires_grad=True)
>>> x = Tensor([[1.0, 2.0]])
>>> loss = (x @ w).sigmoid().sum()
>>> loss.backward()
>>> w.grad
Tensor([[0.14914645],
        [0.2982929 ]])

Every method is written out here and calls one primitive of ``ops/`` (or composes a few),
so that grep and autocomplete find it. Broadcasting happens in ``_broadcast``: operands
are expanded (``ops.Expand``) before a binary primitive sees them, so the Expand's
backward is the one place where it is undone.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_lite import engine, ops
from tinygrad_lite.convert import (
    FLOAT32,
    KeptArray,
    check_bounds,
    check_dtype,
    check_keepdim,
    check_rng,
    describe,
    to_array,
)
from tinygrad_lite.function import clock
from tinygrad_lite.grad_mode import _mode, fp_quiet, is_dual, tangents_of
from tinygrad_lite.shapes import (
    broadcast_shape,
    normalize_axes,
    parse_shape,
    permutation,
    reshape_target,
    short_repr,
)

_INDEX_LIMIT = float(np.iinfo(np.intp).max)  # 2**63 on 64-bit platforms (rounded up)


class Tensor:
    """An n-dimensional array of float64 (or float32) that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is a number, a nested list,
    a numpy array or a Tensor, and is copied. Floats keep float64, or float32 if that is
    what was given or asked for; ints and bools become float64.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_version", "__weakref__")

    # numpy defers to our reflected operators: ndarray * Tensor gives a Tensor.
    __array_ufunc__ = None

    data: np.ndarray
    grad: Tensor | None
    requires_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                f"Tensor: requires_grad must be True or False, got {short_repr(requires_grad)}"
            )
        self.data = to_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Any = None  # the Function node that made this tensor; None for a leaf
        self._version = 0  # the tick of its last in-place change (see the clock): none yet

    @classmethod
    def _from_op(cls, data: np.ndarray) -> Tensor:
        """Wrap an array an op produced: no checks and no copy (the hot path of every op)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = False
        t._ctx = None
        t._version = 0
        return t

    # ------------------------------------------------------------------ attributes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user rather than by an op (or made under no_grad)."""
        return self._ctx is None

    def numpy(self) -> np.ndarray:
        """A copy of the data as a numpy array."""
        return np.array(self.data, subok=True)  # (a KeptArray stays one)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor of one element converts to a Python number; this one "
                f"has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists of floats."""
        return self.data.tolist()

    def astype(self, dtype: Any) -> Tensor:
        """A copy in ``dtype`` (float32 or float64, numpy's name); the gradient is cast back."""
        try:
            target = check_dtype(dtype)
        except TypeError:
            target = None
        if target is None:
            raise TypeError(f"astype: dtype must be float32 or float64, got {short_repr(dtype)}")
        return ops.Cast.apply(self, dtype=target)

    def detach(self) -> Tensor:
        """A new leaf with a copy of this tensor's data, cut from the graph (no grad).

        A copy rather than PyTorch's shared storage: an in-place change to the detached
        tensor can then never alter a value the graph saved for its backward pass.
        """
        # subok: a KeptArray stays one.
        return Tensor._from_op(np.array(self.data, subok=True))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """numpy's conversion protocol: ``np.array(t)`` copies, ``np.asarray(t)`` may not.

        Refused for a tensor that requires grad, as PyTorch refuses it: numpy would compute
        on the values without the graph, and a gradient would silently stop there.
        ``t.detach()`` (or ``t.numpy()``, a copy) says that this is meant.
        """
        if self.requires_grad:
            raise _numpy_refused()
        if copy:  # np.array(t) asks for a copy: changes to it must not reach the tensor
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return np.asarray(self.data)  # the array itself; a numpy scalar becomes one
        if copy is False:
            raise ValueError(
                f"cannot convert a tensor of dtype {self.data.dtype} to {np.dtype(dtype)} "
                f"without a copy (copy=False was given)"
            )
        return self.data.astype(dtype)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """numpy functions (``np.sum(t)``, ``np.concatenate``): computed on the arrays, as
        for any array-like; refused for a tensor that requires grad (see ``__array__``)."""
        arguments = [*args, *kwargs.values()]
        for a in arguments:
            # numpy's dispatch looks one level into sequences (np.concatenate's), and so
            # does this.
            for b in a if isinstance(a, (list, tuple)) else (a,):
                if isinstance(b, Tensor) and b.requires_grad:
                    raise _numpy_refused()
        # numpy's own implementation, given the arrays (it converts Tensors with __array__);
        # the dispatched function would call Tensor.sum back for np.sum.
        implementation = getattr(func, "_implementation", func)
        return implementation(*_plain(args), **dict(zip(kwargs, _plain(kwargs.values()))))

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; only a "
                f"one-element tensor has one"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __repr__(self) -> str:
        """The data, then what made it (``op=``) or ``requires_grad=True``, then the grad;
        in forward mode, the tangent (at the innermost dual level that gives it one).

        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> w
        Tensor([1., 2.], requires_grad=True, grad=[2., 4.])
        >>> w * 3
        Tensor([3., 6.], op=mul)
        """
        indent = " " * len("Tensor(")
        text = "Tensor(" + np.array2string(self.data, separator=", ", prefix=indent)
        if self.data.dtype == np.float32:
            text += ", dtype=float32"
        if self._ctx is not None:
            text += f", op={self._ctx.name}"
        elif self.requires_grad:
            text += ", requires_grad=True"
        if self.grad is not None:
            grad = np.array2string(self.grad.data, separator=", ", prefix=indent + "grad=")
            # A grad that spans lines starts on a line of its own, aligned under the data.
            text += f",\n{indent}grad={grad}" if "\n" in text + grad else f", grad={grad}"
        tangent = next((t for t in reversed(tangents_of(self)) if t is not None), None)
        if tangent is not None:
            values = np.array2string(tangent.data, separator=", ", prefix=indent + "tangent=")
            text += (
                f",\n{indent}tangent={values}" if "\n" in text + values else f", tangent={values}"
            )
        return text + ")"

    # ----------------------------------------------------------- in-place changes

    def add_(self, other: Any) -> Tensor:
        """self += other, in place (broadcasting other to self's shape); returns self."""
        return self._in_place("add_", np.add, other)

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place; returns self."""
        return self._in_place("sub_", np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place; returns self."""
        return self._in_place("mul_", np.multiply, other)

    def copy_(self, other: Any) -> Tensor:
        """Overwrite self with other's values (broadcast to self's shape); returns self."""
        return self._in_place("copy_", _assign, other)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place; returns self."""
        return self._in_place("zero_", _assign, 0.0)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``, in place (for tensors outside a graph, as the methods above)."""
        self._check_in_place("__setitem__")
        # The value is data like any other, checked first: numpy alone would store None as
        # nan and parse the string "1.5", and only a bad index is an IndexError.
        try:
            array = to_array(value.data if isinstance(value, Tensor) else value, self.data.dtype)
        except (TypeError, ValueError) as error:
            raise type(error)(f"cannot assign {describe(value)} to a tensor: {error}") from None
        where = f"index {short_repr(index)} of a tensor of shape {self.shape}"
        try:
            index = _index_arrays(index)
            if self.data.size == 0:
                _check_index_of_empty(self.data, index)
            self.data[index]  # a read first, so that a bad index is told from a bad value
        except (IndexError, TypeError, ValueError, OverflowError) as error:
            raise IndexError(f"cannot assign to {where}: {error}") from None
        try:
            self.data[index] = array
        except (ValueError, TypeError) as error:  # the index is good: the value's shape is not
            # (numpy says TypeError for a value of many dimensions behind a boolean index)
            raise ValueError(
                f"cannot assign a value of shape {array.shape} to {where}: {error}"
            ) from None
        self._version = next(clock)  # (see the clock, function.py)

    @fp_quiet()
    def _in_place(self, op: str, ufunc: Any, other: Any) -> Tensor:
        """Apply ``ufunc(self.data, other, out=self.data)`` and count the change."""
        self._check_in_place(op)
        if isinstance(other, Tensor):
            other = other.data
        elif not (isinstance(other, np.ndarray) and other.dtype.kind in "biuf"):
            other = to_array(other, self.data.dtype)
        shape = self.data.shape
        if other.shape != shape and broadcast_shape(op, shape, other.shape) != shape:
            raise ValueError(
                f"{op}: an operand of shape {other.shape} would change the shape {self.shape} "
                f"of the tensor changed in place; accepted: shapes that broadcast to it"
            )
        self._update(ufunc, other)
        return self

    def _update(self, ufunc: Any, other: np.ndarray | float) -> None:
        """``ufunc(self.data, other, out=self.data)``, counted as a change: the step of an
        in-place method once its checks passed, and an optimizer's update of a parameter
        (a leaf it checked when it was made) by an array of the parameter's shape or a
        number."""
        ufunc(self.data, other, out=self.data)
        self._version = next(clock)  # (see the clock, function.py)

    def _check_in_place(self, op: str) -> None:
        if self._ctx is not None:
            raise RuntimeError(
                f"{op}: this tensor was computed by {self._ctx.name} and is part of a graph; "
                f"changing it in place would change what the backward pass sees. Use the "
                f"out-of-place form (t = t + x) instead"
            )
        if self.requires_grad and _mode.enabled:
            raise RuntimeError(
                f"{op}: a leaf that requires grad cannot be changed in place while operations "
                f"are recorded; do it inside `with tl.no_grad():`"
            )
        if _mode.levels and is_dual(self):
            raise RuntimeError(
                f"{op}: this tensor is dual (it has a tangent at an active dual level), and "
                f"changing its value in place would leave that tangent behind; compute a new "
                f"tensor instead (t = t + x), or change it outside the level"
            )

    # ------------------------------------------------------------------- backward

    # One fp_quiet around the pass and the accumulation: adding to an existing .grad can
    # overflow (1e308 + 1e308) or be invalid (inf + -inf) too.
    @fp_quiet()
    def backward(
        self, gradient: Any = None, *, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Add d(self)/d(leaf) to ``leaf.grad`` for every leaf behind self that requires grad.

        ``gradient`` is d(output)/d(self): it may be left out for a tensor of one element
        (it is then 1). The graph is freed afterwards unless ``retain_graph=True``;
        ``create_graph=True`` records the backward pass too (and keeps the graph), so the
        gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: it was not computed from "
                "a tensor created with requires_grad=True (or it was computed under no_grad)"
            )
        seed: Any = self._seed(gradient)
        if create_graph:
            retain_graph = True
            if isinstance(gradient, Tensor) and gradient.requires_grad:
                # The gradient stays in the graph (a copy in self's dtype): x.grad is then a
                # function of it, and differentiating x.grad by it gives a Jacobian-vector
                # product (the double-backward trick), as in PyTorch.
                seed = gradient.astype(self.data.dtype)
            else:
                seed = Tensor._from_op(seed)
        for leaf, grad in engine.backward(
            self, seed, retain_graph=retain_graph, create_graph=create_graph
        ):
            leaf._accumulate(grad)

    def _seed(self, gradient: Any) -> np.ndarray:
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs gradient= for a tensor of shape {self.shape}: the "
                    f"gradient may be left out (it is 1) only for a tensor of one element"
                )
            # ndmin gives the shape of a one-element tensor, () or (1, ..., 1), in one call
            # (np.ones takes a Python-level detour).
            return np.array(1.0, dtype=self.data.dtype, ndmin=self.data.ndim)
        try:
            seed = to_array(gradient.data if isinstance(gradient, Tensor) else gradient, self.dtype)
        except (TypeError, ValueError) as error:
            raise type(error)(f"backward(): gradient= is not usable: {error}") from None
        if seed.shape != self.shape:
            raise ValueError(
                f"backward(): gradient has shape {seed.shape}, but the tensor has shape "
                f"{self.shape}; they must be equal"
            )
        return seed

    def _accumulate(self, grad: Any) -> None:
        """Add one backward pass's gradient to .grad (PyTorch's accumulation rule): into
        the .grad already there, in place, so that a reference to it stays current; out of
        place when either is recorded (under create_graph), so that the sum is recorded too.
        The engine gives each gradient in this tensor's dtype."""
        if isinstance(grad, Tensor):  # under create_graph, or in forward mode
            # The engine hands these out as the rules made them, and a rule may give one
            # Tensor to several inputs (add does), or hand on a leaf (a gradient= given to
            # backward). .grad gets a copy of its own, recorded if the gradient is (a dual
            # one, which forward mode gives, cannot be changed in place: it is kept).
            if grad._ctx is None and not is_dual(grad):
                grad = grad.astype(grad.data.dtype)
            self.grad = grad if self.grad is None else self.grad + grad
        elif self.grad is None:
            # The engine hands out arrays that nothing else holds (engine._owned), so .grad
            # takes it as it is: no copy of each weight's gradient per step.
            self.grad = Tensor._from_op(grad)
        elif self.grad.requires_grad or self.grad.data.shape != grad.shape:
            self.grad = self.grad + grad  # a recorded .grad (or one set by hand)
        else:
            self.grad._update(np.add, grad)  # dated: a graph that saved .grad will refuse it

    # ------------------------------------------------------------ binary operators

    def add(self, other: Any) -> Tensor:
        """self + other, broadcasting."""
        return ops.Add.apply(*self._broadcast("add", other))

    def sub(self, other: Any) -> Tensor:
        """self - other, broadcasting."""
        return ops.Sub.apply(*self._broadcast("sub", other))

    def mul(self, other: Any) -> Tensor:
        """self * other, broadcasting."""
        return ops.Mul.apply(*self._broadcast("mul", other))

    def div(self, other: Any) -> Tensor:
        """self / other, broadcasting."""
        return ops.Div.apply(*self._broadcast("div", other))

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent, broadcasting; the exponent may be a Tensor too."""
        return ops.Pow.apply(*self._broadcast("pow", exponent))

    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(*self._broadcast("add", other))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(*self._broadcast("add", other, reflected=True))

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(*self._broadcast("sub", other))

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(*self._broadcast("sub", other, reflected=True))

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*self._broadcast("mul", other))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*self._broadcast("mul", other, reflected=True))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*self._broadcast("div", other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*self._broadcast("div", other, reflected=True))

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.Pow.apply(*self._broadcast("pow", exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return ops.Pow.apply(*self._broadcast("pow", base, reflected=True))

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def _broadcast(self, op: str, other: Any, reflected: bool = False) -> tuple[Tensor, Tensor]:
        """The two operands of a binary op, as Tensors of one shape where derivatives flow.

        ``other`` may be a number, a list or an array; it is a constant. Each operand that
        a derivative flows through (see ``_flows``) and is smaller than the result is
        expanded (``ops.Expand``), so that the primitive sees equal shapes, the Expand's
        backward undoes the broadcast and its jvp broadcasts the tangent. A constant is
        left to numpy's broadcasting, since no derivative flows through it.
        """
        if not isinstance(other, Tensor):
            other = _constant(op, other, self.data.dtype)
        x, y = (other, self) if reflected else (self, other)
        if x.data.shape == y.data.shape:
            return x, y
        if x.data.dtype != y.data.dtype and not (x.data.ndim and y.data.ndim):
            x, y = _dtype_of_dimensions(x, y)
            other = x if reflected else y
        if not other.data.shape and not other.requires_grad and not _mode.levels:
            return x, y  # a constant scalar: numpy broadcasts it, and it needs no gradient
        shape = broadcast_shape(op, x.data.shape, y.data.shape)
        if x.data.shape != shape and _flows(x):
            x = x.expand(shape)
        if y.data.shape != shape and _flows(y):
            y = y.expand(shape)
        return x, y

    # ---------------------------------------------------------------------- matmul

    def matmul(self, other: Any) -> Tensor:
        """self @ other with numpy's matmul rules.

        1-D operands are treated as a row (first) or a column (second) vector and that
        dimension is removed from the result; dimensions before the last two are batch
        dimensions and broadcast.
        """
        if not isinstance(other, Tensor):
            other = _constant("matmul", other, self.data.dtype)
        return _matmul(self, other)

    def dot(self, other: Any) -> Tensor:
        """The same as ``matmul`` (numpy's matmul rules, also for 1-D and batched operands)."""
        return self.matmul(other)

    def __matmul__(self, other: Any) -> Tensor:
        if not isinstance(other, Tensor):
            other = _constant("matmul", other, self.data.dtype)
        return _matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(_constant("matmul", other, self.data.dtype), self)

    # ----------------------------------------------------------------- unary math

    def neg(self) -> Tensor:
        """-self"""
        return ops.Neg.apply(self)

    def exp(self) -> Tensor:
        """e ** self"""
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        """Natural logarithm: -inf at 0, nan below (IEEE, without warnings)."""
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        """The square root: nan below 0, and so is its gradient there."""
        return ops.Sqrt.apply(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-self))"""
        return ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        """max(self, 0)"""
        return ops.Relu.apply(self)

    def tanh(self) -> Tensor:
        """tanh(self)"""
        return ops.Tanh.apply(self)

    def abs(self) -> Tensor:
        """|self|"""
        return ops.Abs.apply(self)

    # ------------------------------------------------------------ choosing elements

    def maximum(self, other: Any) -> Tensor:
        """The larger of self and other, elementwise (broadcasting); a tie splits the
        gradient evenly, as in PyTorch."""
        return ops.Maximum.apply(*self._broadcast("maximum", other))

    def minimum(self, other: Any) -> Tensor:
        """The smaller of self and other, elementwise: ``-maximum(-self, -other)``."""
        if not isinstance(other, Tensor):
            other = _constant("minimum", other, self.data.dtype)
        return -(-self).maximum(-other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's names)
        """self with values below ``min`` raised to it and values above ``max`` lowered to it.

        ``min`` and ``max`` are numbers, arrays or Tensors (broadcasting); either may be
        None, not both. The gradient goes to self where ``min <= self <= max`` (both ends
        included, as in PyTorch) and to a bound where it was taken; where min > max, every
        element is max. Composed: one ``where`` per bound.
        """
        if min is None and max is None:
            raise ValueError("clip: min and max are both None; give at least one of them")
        out = self
        # A nan bound is taken, as in PyTorch and numpy (x < nan is False: it would be
        # passed over); a nan in self stays, since nan < min is False too.
        if min is not None:
            low = min if isinstance(min, Tensor) else _constant("clip", min, self.data.dtype)
            out = where((out.data < low.data) | np.isnan(low.data), low, out)
        if max is not None:
            high = max if isinstance(max, Tensor) else _constant("clip", max, self.data.dtype)
            out = where((out.data > high.data) | np.isnan(high.data), high, out)
        return out

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's)
        """The same as ``clip`` (PyTorch's name)."""
        return self.clip(min, max)

    # ----------------------------------------------------------------- reductions

    def sum(self, axis: Any = None, keepdim: bool = False) -> Tensor:
        """Sum over ``axis`` (None for all, an int, a negative int or a tuple)."""
        axes = normalize_axes("sum", axis, self.data.ndim)
        return ops.Sum.apply(self, axis=axes, keepdim=check_keepdim("sum", keepdim))

    def mean(self, axis: Any = None, keepdim: bool = False) -> Tensor:
        """sum(axis) / number of elements summed (nan for none, as in numpy)."""
        axes = normalize_axes("mean", axis, self.data.ndim)
        keepdim = check_keepdim("mean", keepdim)  # here, so that an error names mean
        count = math.prod(self.data.shape[a] for a in axes)
        return self.sum(axis=axes, keepdim=keepdim) / count

    def var(self, axis: Any = None, keepdim: bool = False, correction: float = 1) -> Tensor:
        """sum((self - mean)**2, axis) / (n - correction), the variance over ``axis``.

        ``correction=1`` (the default, Bessel's) gives the unbiased estimate from a sample,
        0 the population's variance; ``n - correction`` below 0 counts as 0 (so 1 element
        with correction 1 gives nan, as in PyTorch). Composed: its gradient is
        ``grad * 2 * (self - mean) / (n - correction)``.
        """
        axes = normalize_axes("var", axis, self.data.ndim)
        keepdim = check_keepdim("var", keepdim)
        if isinstance(correction, (bool, np.bool_)) or not isinstance(
            correction, (int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"var: correction must be a real number (1: the sample's variance, 0: the "
                f"population's), got {short_repr(correction)}"
            )
        count = math.prod(self.data.shape[a] for a in axes)
        d = self - self.mean(axis=axes, keepdim=True)
        return (d * d).sum(axis=axes, keepdim=keepdim) / max(count - correction, 0)

    def std(self, axis: Any = None, keepdim: bool = False, correction: float = 1) -> Tensor:
        """The standard deviation over ``axis``: ``var(axis, keepdim, correction) ** 0.5``.

        Where the elements are all equal (a variance of 0), the gradient is 0, PyTorch's
        choice, rather than sqrt's infinite slope times 0 (nan).
        """
        variance = self.var(axis, keepdim, correction)
        flat = variance.data == 0  # a constant: sqrt takes 1 there instead, and is cut off
        return where(flat, 0.0, where(flat, 1.0, variance).sqrt())

    def max(self, axis: Any = None, keepdim: bool = False) -> Tensor:
        """The maximum over ``axis``; its gradient goes to the maximum (ties share it)."""
        axes = self._nonempty_axes("max", axis)
        return ops.Max.apply(self, axis=axes, keepdim=check_keepdim("max", keepdim))

    def min(self, axis: Any = None, keepdim: bool = False) -> Tensor:
        """The minimum over ``axis``: ``-(-self).max(axis)``, so ties share the gradient."""
        axes = self._nonempty_axes("min", axis)
        return -(-self).max(axis=axes, keepdim=check_keepdim("min", keepdim))

    def argmax(self, axis: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the maximum along ``axis`` (of the flattened tensor for None).

        Not differentiable: the result is a Tensor of whole numbers (float64, as every
        Tensor made from ints), usable as labels or as an index. The first index wins a tie;
        a nan is the maximum, as in numpy and PyTorch.
        """
        return self._arg("argmax", np.argmax, axis, keepdim)

    def argmin(self, axis: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the minimum along ``axis`` (see ``argmax``)."""
        return self._arg("argmin", np.argmin, axis, keepdim)

    def _nonempty_axes(self, op: str, axis: Any) -> tuple[int, ...]:
        axes = normalize_axes(op, axis, self.data.ndim)
        empty = [a for a in axes if self.data.shape[a] == 0]
        if empty:
            raise ValueError(
                f"{op}: axis {empty[0]} of a tensor of shape {self.shape} is empty, and an "
                f"empty axis has no {'maximum' if op.endswith('max') else 'minimum'}; "
                f"accepted: axes of size at least 1"
            )
        return axes

    def _arg(self, op: str, find: Any, axis: Any, keepdim: bool) -> Tensor:
        keepdim = check_keepdim(op, keepdim)
        if axis is None:
            self._nonempty_axes(op, None)
            index = find(self.data, axis=None, keepdims=keepdim)
        else:
            axes = _one_axis(op, axis, self.data.ndim)
            self._nonempty_axes(op, axes)
            # A 0-d tensor is a row of one: its only index is 0.
            index = find(self.data, axis=axes[0], keepdims=keepdim) if axes else np.array(0)
        return Tensor._from_op(np.asarray(index, dtype=np.float64))

    def logsumexp(self, axis: Any = None, keepdim: bool = False) -> Tensor:
        """log(sum(exp(self), axis)), finite for every finite input (-inf for an empty sum).

        Composed: ``m + log(sum(exp(self - m), axis))`` with ``m`` the maximum, a constant,
        so no exp overflows; the value does not depend on ``m``, so neither does the
        gradient, the softmax.
        """
        axes = normalize_axes("logsumexp", axis, self.data.ndim)
        keepdim = check_keepdim("logsumexp", keepdim)
        m = np.max(self.data, axis=axes, keepdims=True, initial=-np.inf)  # -inf if empty
        # An infinite maximum (or nan) cannot be subtracted: shift by 0, and the inf (or the
        # nan) comes through exp and log as it should.
        m = np.where(np.isfinite(m), m, 0).astype(self.data.dtype)
        total = (self - m).exp().sum(axis=axes, keepdim=keepdim)
        if not keepdim:
            m = m.reshape(total.data.shape)
        return total.log() + m

    # ------------------------------------------------------- along one axis

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(self) / sum(exp(self), axis): along ``axis``, positive numbers that sum to 1."""
        return ops.Softmax.apply(self, axis=_one_axis("softmax", axis, self.data.ndim))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """self - logsumexp(self, axis): the log of softmax, finite for every finite input."""
        return ops.LogSoftmax.apply(self, axis=_one_axis("log_softmax", axis, self.data.ndim))

    # ------------------------------------------------------------- shape and views

    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in another shape; one size may be -1 (inferred)."""
        target = reshape_target(
            self.data.shape, parse_shape("reshape", shape, allow_minus_one=True)
        )
        return self._view(ops.Reshape, shape=target)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes ``start_dim`` to ``end_dim`` (both included) merged into one (a reshape).

        ``t.flatten()`` is 1-D (a 0-d tensor becomes shape (1,)); ``t.flatten(1)`` keeps the
        batch axis and flattens the rest (each sample's features in one row).
        """
        ndim = max(self.data.ndim, 1)  # a 0-d tensor flattens as a tensor of shape (1,)
        (start,) = normalize_axes("flatten", (start_dim,), ndim)
        (end,) = normalize_axes("flatten", (end_dim,), ndim)
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} in a tensor of "
                f"{self.data.ndim} dimension(s); accepted: start_dim <= end_dim"
            )
        shape = self.data.shape or (1,)
        merged = math.prod(shape[start : end + 1])
        return self.reshape(*shape[:start], merged, *shape[end + 1 :])

    def squeeze(self, axis: Any = None) -> Tensor:
        """The axes of size 1 removed: all of them (None), or those of ``axis`` (an int or a
        tuple) that have size 1; an axis of another size is left as it is, as in PyTorch."""
        # A 0-d tensor takes axis 0 or -1, as in PyTorch, and stays as it is.
        axes = normalize_axes("squeeze", axis, max(self.data.ndim, 1))
        shape = [n for i, n in enumerate(self.data.shape) if not (i in axes and n == 1)]
        return self.reshape(*shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """A new axis of size 1 at ``axis``, from -ndim-1 to ndim (a reshape)."""
        if isinstance(axis, tuple):
            raise TypeError(f"unsqueeze: axis must be one int, got {short_repr(axis)}")
        (position,) = normalize_axes("unsqueeze", axis, self.data.ndim + 1)
        shape = list(self.data.shape)
        shape.insert(position, 1)
        return self.reshape(*shape)

    def permute(self, *order: Any) -> Tensor:
        """The axes reordered: ``t.permute(2, 0, 1)`` puts axis 2 first."""
        return self._view(ops.Permute, order=permutation(order, self.data.ndim))

    def transpose(self, ax0: int = 1, ax1: int = 0) -> Tensor:
        """Axes ``ax0`` and ``ax1`` swapped (PyTorch's transpose; for 2-D, the transpose)."""
        # Each as a 1-tuple: normalize_axes reads None (or a tuple) as several axes.
        (ax0,) = normalize_axes("transpose", (ax0,), self.data.ndim)
        (ax1,) = normalize_axes("transpose", (ax1,), self.data.ndim)
        order = list(range(self.data.ndim))
        order[ax0], order[ax1] = order[ax1], order[ax0]
        return self._view(ops.Permute, order=tuple(order))

    @property
    def T(self) -> Tensor:  # noqa: N802 (numpy's name)
        """All axes reversed, as numpy's ``.T`` (for 2-D, the transpose)."""
        return self._view(ops.Permute, order=tuple(reversed(range(self.data.ndim))))

    @property
    def mT(self) -> Tensor:  # noqa: N802 (numpy's and PyTorch's name)
        """The last two axes swapped: the transpose of each matrix in a batch."""
        if self.data.ndim < 2:
            raise ValueError(f"mT needs a tensor of at least 2 dimensions, got shape {self.shape}")
        return self.transpose(-1, -2)

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` (numpy's broadcast_to); the gradient is summed back."""
        target = parse_shape("expand", shape)
        if broadcast_shape("expand", self.data.shape, target) != target:
            raise ValueError(
                f"expand: a tensor of shape {self.shape} cannot be broadcast to {target}; "
                f"each size must equal the target's or be 1"
            )
        # Even to its own shape, a new tensor: under no_grad a constant, outside a graph a
        # copy, as every movement op gives (returning self would share its graph and data).
        return self._view(ops.Expand, shape=target)

    def _view(self, op: Any, **params: Any) -> Tensor:
        """The result of a movement op (reshape, permute, expand): numpy's view of this
        tensor's data inside a recorded graph, a copy of its own outside one.

        A view follows every in-place change to this tensor. Inside a graph that is safe:
        the view is not a leaf (so it cannot be changed in place itself), and before the
        backward pass uses anything computed from it, the movement op's node checks this
        tensor's version and refuses a changed one. Outside a graph nothing would notice,
        so the result gets data of its own. (Views save a copy per step: a bias is
        expanded to the batch's shape in every dense layer.)
        """
        out: Tensor = op.apply(self, **params)
        if out._ctx is None:
            out.data = out.data.copy()
        return out

    def __getitem__(self, index: Any) -> Tensor:
        """Basic and integer-array indexing, as numpy; repeated indices add up gradients."""
        try:
            index = _index_arrays(index)
            if self.data.size == 0:
                _check_index_of_empty(self.data, index)
            return ops.Index.apply(self, index=index)
        except (IndexError, TypeError, ValueError, OverflowError) as error:
            # OverflowError: an int index beyond int64 (numpy's "too large to convert").
            raise IndexError(
                f"index {short_repr(index)} does not fit a tensor of shape {self.shape}: {error}"
            ) from None

    # --------------------------------------------------------------- constructors

    @staticmethod
    def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return Tensor(np.zeros(parse_shape("zeros", shape)), requires_grad, dtype)

    @staticmethod
    def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of ones."""
        return Tensor(np.ones(parse_shape("ones", shape)), requires_grad, dtype)

    @staticmethod
    def eye(n: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """The n x n identity matrix."""
        if isinstance(n, (tuple, list)):  # parse_shape would take it for a whole shape
            raise TypeError(f"eye: n is an int >= 0 (the number of rows), got {short_repr(n)}")
        (n,) = parse_shape("eye", (n,))
        parse_shape("eye", (n, n))  # n * n within numpy's limits
        return Tensor(np.eye(n), requires_grad, dtype)

    @staticmethod
    def uniform(
        *shape: Any,
        low: float = -1.0,
        high: float = 1.0,
        rng: Any = None,
        dtype: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """Uniform samples in [low, high) from ``rng`` (a numpy Generator or RandomState)."""
        size = parse_shape("uniform", shape)
        low, high = check_bounds(low, high)
        return Tensor(check_rng("uniform", rng).uniform(low, high, size), requires_grad, dtype)

    @staticmethod
    def randn(
        *shape: Any, rng: Any = None, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal samples, drawn from ``rng`` (a numpy Generator or RandomState)."""
        size = parse_shape("randn", shape)
        return Tensor(check_rng("randn", rng).standard_normal(size), requires_grad, dtype)


# ----------------------------------------------------------------- functions of tensors


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """Elementwise ``x`` where ``cond`` is true, ``y`` where it is false (broadcasting).

    ``cond`` is a boolean array (or a Tensor or array of numbers, true where nonzero), a
    constant; ``x`` and ``y`` are Tensors or constants (numbers take the other's dtype).
    The gradient goes to the operand each element came from.
    """
    cond = _condition(cond)
    x, y = _tensor_list("where", [x, y])
    if x.data.dtype != y.data.dtype:
        x, y = _dtype_of_dimensions(x, y)
    shape = broadcast_shape("where", cond.shape, broadcast_shape("where", x.shape, y.shape))
    if x.data.shape != shape and _flows(x):
        x = x.expand(shape)
    if y.data.shape != shape and _flows(y):
        y = y.expand(shape)
    return ops.Where.apply(x, y, cond=cond)


def cat(tensors: Any, axis: int = 0) -> Tensor:
    """The tensors joined along ``axis``; they must have one shape but for that axis.

    Each gets the gradient of its own piece. Numbers, lists and arrays among them are
    constants.
    """
    parts = _tensor_list("cat", tensors)
    first = parts[0]
    if first.data.ndim == 0:
        raise ValueError("cat: 0-d tensors have no axis to join along; use stack")
    (axis,) = normalize_axes("cat", (axis,), first.data.ndim)
    for i, t in enumerate(parts):
        same = t.data.ndim == first.data.ndim and all(
            m == n for a, (m, n) in enumerate(zip(t.data.shape, first.data.shape)) if a != axis
        )
        if not same:
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape} and tensor 0 has shape {first.shape}; "
                f"accepted: the same shape but for axis {axis}"
            )
    return ops.Cat.apply(*parts, axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """The tensors, all of one shape, joined along a new ``axis`` (from -ndim-1 to ndim).

    Composed: each gets an axis of size 1 (``unsqueeze``), then ``cat``.
    """
    parts = _tensor_list("stack", tensors)
    for i, t in enumerate(parts):
        if t.data.shape != parts[0].data.shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape} and tensor 0 has shape "
                f"{parts[0].shape}; accepted: tensors of one shape"
            )
    if isinstance(axis, tuple):
        raise TypeError(f"stack: axis must be one int, got {short_repr(axis)}")
    (axis,) = normalize_axes("stack", axis, parts[0].data.ndim + 1)
    return cat([t.unsqueeze(axis) for t in parts], axis=axis)


def _tensor_list(op: str, tensors: Any) -> list[Tensor]:
    """The tensors of a list; numbers, lists and arrays in it become constants, of the first
    Tensor's dtype (numbers are weakly typed, as in the binary ops)."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: takes a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor, got an empty {type(tensors).__name__}")
    dtype = next((t.data.dtype for t in tensors if isinstance(t, Tensor)), np.dtype(np.float64))
    return [t if isinstance(t, Tensor) else _constant(op, t, dtype) for t in tensors]


def _dtype_of_dimensions(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Two operands of different dtypes, one of them 0-d, cast to the other's dtype.

    PyTorch's rule: a 0-d tensor does not set the dtype of one with dimensions (float32
    (2,) + float64 () is float32), where numpy 2 would give float64. Two operands with
    dimensions, or two 0-d ones, are left as they are (float64 wins, as in both).
    """
    if x.data.ndim and not y.data.ndim:
        return x, y.astype(x.data.dtype)
    if y.data.ndim and not x.data.ndim:
        return x.astype(y.data.dtype), y
    return x, y


def _condition(cond: Any) -> np.ndarray:
    """where's condition as a boolean array: True where it is true (or nonzero)."""
    values = cond.data if isinstance(cond, Tensor) else np.asanyarray(cond)
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"where: cond must be booleans (or numbers, true where nonzero), got an array "
            f"of dtype {values.dtype}"
        )
    return values if values.dtype.kind == "b" else values != 0


# -------------------------------------------------------------------------- helpers


def _assign(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """The update of copy_ and zero_: out's values become y's (x is out, and unused)."""
    np.copyto(out, y)


def _constant(op: str, value: Any, dtype: np.dtype) -> Tensor:
    """A non-Tensor operand as a constant Tensor.

    Numbers (numpy's scalars too, as PyTorch takes them), lists of numbers, and arrays of
    ints or bools are weakly typed as in numpy: they take the other operand's dtype, so
    that ``t32 * 2`` and ``t32 * [1, 2]`` stay float32. A float array keeps its dtype.
    """
    if isinstance(value, (bool, int, float, np.bool_, np.integer)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "biu"
    ):
        try:
            subok = isinstance(value, KeptArray)  # (see KeptArray)
            if dtype is not FLOAT32:
                return Tensor._from_op(np.array(value, dtype=dtype, subok=subok))
            with fp_quiet():  # beyond float32's range a number becomes inf, without a warning
                return Tensor._from_op(np.array(value, dtype=dtype, subok=subok))
        except OverflowError:
            pass  # an int too large for the dtype: let Tensor() say so
    floats = isinstance(value, np.ndarray) and value.dtype.kind == "f"
    try:
        return Tensor(value, dtype=None if floats else dtype)
    except (TypeError, ValueError) as error:  # the same kind: a ragged list is a ValueError
        raise type(error)(f"{op}: the other operand is not usable as a tensor: {error}") from None


def _numpy_refused() -> RuntimeError:
    return RuntimeError(
        "numpy cannot take a tensor that requires grad: it would compute on the values "
        "without the graph, and no gradient would flow through the result. Use the Tensor's "
        "own ops (t.sum(), t @ u), or t.detach() for the values without the graph"
    )


def _plain(values: Any) -> list[Any]:
    """Arguments for numpy: each Tensor as its array, one level into lists and tuples."""
    plain = []
    for v in values:
        if isinstance(v, (list, tuple)):
            v = type(v)(u.data if isinstance(u, Tensor) else u for u in v)
        plain.append(v.data if isinstance(v, Tensor) else v)
    return plain


def _matmul(x: Tensor, y: Tensor) -> Tensor:
    """x @ y: the 1-D and broadcasting cases of numpy's rules, around ops.Matmul."""
    xs, ys = x.data.shape, y.data.shape
    if not xs or not ys:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {xs} and {ys}"
        )
    if len(xs) == 2 and len(ys) == 2 and xs[1] == ys[0]:
        return ops.Matmul.apply(x, y)  # the common case, checked first
    if xs[-1] != ys[-2 if len(ys) > 1 else 0]:
        raise ValueError(
            f"matmul: shapes {xs} and {ys} do not fit: the last dimension of the first "
            f"({xs[-1]}) must equal the {'second-to-last' if len(ys) > 1 else 'only'} "
            f"dimension of the second ({ys[-2 if len(ys) > 1 else 0]})"
        )
    # A 1-D operand becomes a matrix (a row first, a column second), removed again after.
    if len(xs) == 1:
        x = x.reshape(1, xs[0])
    if len(ys) == 1:
        y = y.reshape(ys[0], 1)
    try:
        batch = broadcast_shape("matmul", x.data.shape[:-2], y.data.shape[:-2])
    except ValueError:
        # The message names the operands' shapes, not just their batch parts.
        raise ValueError(
            f"matmul: shapes {xs} and {ys} do not fit: their batch dimensions "
            f"{x.data.shape[:-2]} and {y.data.shape[:-2]} (all but the last two) do not "
            f"broadcast; aligned from the right, each pair must be equal or contain a 1"
        ) from None
    if x.data.shape[:-2] != batch and _flows(x):
        x = x.expand(*batch, *x.data.shape[-2:])
    if y.data.shape[:-2] != batch and _flows(y):
        y = y.expand(*batch, *y.data.shape[-2:])
    out = ops.Matmul.apply(x, y)
    if len(xs) == 1 or len(ys) == 1:
        rows = xs[-2:-1]  # () for a 1-D first operand
        columns = ys[-1:] if len(ys) > 1 else ()
        out = out.reshape(*batch, *rows, *columns)
    return out


def _flows(t: Tensor) -> bool:
    """Whether a derivative flows through ``t``: a gradient (it requires grad, and operations
    are recorded) or, in forward mode, a tangent (it is dual)."""
    return (t.requires_grad and _mode.enabled) or bool(_mode.levels and is_dual(t))


def _one_axis(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """One axis, as the tuple an op takes; a 0-d tensor takes 0 or -1 and has none."""
    if isinstance(axis, tuple) or axis is None:
        raise TypeError(f"{op}: axis must be one int, got {short_repr(axis)}")
    axes = normalize_axes(op, axis, max(ndim, 1))
    # A 0-d tensor takes axis 0 or -1, as in PyTorch, and is normalised over no axis: its
    # softmax is 1.
    return axes if ndim else ()


def _check_index_of_empty(data: np.ndarray, index: Any) -> None:
    """An index out of bounds is an IndexError even where it picks nothing from an empty array.

    numpy 2.0 only warns (a DeprecationWarning) there and returns an empty result; later
    numpy raises. This makes every numpy >= 2 behave as the later ones.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            data[index]
        except DeprecationWarning as warning:
            raise IndexError(str(warning).split(". ")[0]) from None


def _index_arrays(index: Any) -> Any:
    """Tensors inside an index become integer arrays (their values must be whole numbers)."""
    if isinstance(index, tuple):
        # One level only: numpy reads a tuple inside the index as a sequence, and recursing
        # into it would let the caller choose the depth of the recursion.
        return tuple(_index_array(i) for i in index)
    return _index_array(index)


def _index_array(index: Any) -> Any:
    """One part of an index, as numpy should see it."""
    if isinstance(index, Tensor):
        values = index.data
        # Comparisons with nan are False and warn about nothing; inf and values past the
        # integer range would make the cast below warn and wrap around.
        whole = (values == np.round(values)) & (np.abs(values) < _INDEX_LIMIT)
        if not np.all(whole):
            raise IndexError(
                f"a Tensor used as an index must hold whole numbers (finite, and smaller in "
                f"magnitude than {_INDEX_LIMIT:.0f}), got {values}"
            )
        return values.astype(np.intp)
    if isinstance(index, list):
        array = np.asarray(index)
        # An empty list picks nothing, as in numpy; np.asarray([]) would be a float array.
        return array.astype(np.intp) if array.size == 0 else array
    if isinstance(index, np.ndarray):
        return index.copy()  # Index keeps it for the backward pass: the caller's may change
    return index
