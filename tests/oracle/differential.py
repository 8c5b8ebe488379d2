"""Random programs of tinygrad_lite's public ops, run side by side with PyTorch.

A program is drawn from a seed. It is generated on tinygrad_lite, step by step, so that
each step can be chosen to fit the shapes and values so far (a log takes a positive
operand, a matrix product a weight of a fitting shape), and recorded as plain data
(``Program``): leaves, then steps that each apply one public op, or change a tensor in
place, to earlier nodes and constants. The recording is then replayed on both frameworks
(``Ours``, ``Theirs``), as often as a check needs, and the two are compared node by node:
values, dtypes, shapes, which tensors require grad, then gradients.

PyTorch is the oracle where tinygrad_lite means to match it. Where docs/design.md
documents a difference, ``Theirs`` computes what tinygrad_lite documents instead, each in
one marked place: results outside a graph are copies, not views (``_own``); ``axis=()``
reduces nothing; the gradient of a NaN maximum goes to the NaNs (``NanMax``). Anything else
that differs is a failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import tinygrad_lite as tl
from tinygrad_lite import Tensor

torch.set_num_threads(1)

TORCH_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
# 1e300, not 1e308: a sum of a few stays finite in any order (BLAS and PyTorch add in others)
SPECIAL = (0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -1e-310, 1e300)


# ------------------------------------------------------------------------ the recording


@dataclasses.dataclass(frozen=True)
class Const:
    """A constant operand: a number, a list of numbers or a numpy array."""

    value: Any


@dataclasses.dataclass(frozen=True)
class Step:
    """One op applied to earlier nodes (ints) and constants; ``target`` for in place."""

    op: str
    args: tuple[Any, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    no_grad: bool = False
    target: int | None = None


@dataclasses.dataclass
class Program:
    """Leaves (arrays, and whether each requires grad) and steps. Each step that is not in
    place adds a node, numbered in order; a "leaf" step adds leaf ``k`` as a node."""

    leaves: list[tuple[np.ndarray, bool]]
    steps: list[Step]

    def describe(self) -> str:
        lines = []
        node = 0
        for step in self.steps:
            where = f"node {step.target} <-" if step.target is not None else f"node {node} ="
            if step.target is None:
                node += 1
            if step.op == "leaf":
                value, rg = self.leaves[dict(step.params)["k"]]
                lines.append(
                    f"{where} leaf({value.dtype}, shape {value.shape}, requires_grad={rg})"
                )
                continue
            args = ", ".join(f"n{a}" if isinstance(a, int) else _short(a.value) for a in step.args)
            params = ", ".join(f"{k}={_short(v)}" for k, v in step.params)
            flag = " [no_grad]" if step.no_grad else ""
            lines.append(f"{where} {step.op}({args}{'; ' + params if params else ''}){flag}")
        return "\n".join(lines)

    def leaf_nodes(self) -> list[int]:
        """The node number of each leaf, in the order of ``leaves``."""
        numbers = [0] * len(self.leaves)
        node = 0
        for step in self.steps:
            if step.op == "leaf":
                numbers[dict(step.params)["k"]] = node
            if step.target is None:
                node += 1
        return numbers


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}:{value.dtype}"
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


# -------------------------------------------------------------------- the two frameworks


class Ours:
    """tinygrad_lite: a step's op, on Tensors."""

    name = "tinygrad_lite"

    def leaf(self, value: np.ndarray, requires_grad: bool) -> Tensor:
        return Tensor(value, requires_grad=requires_grad)

    def operand(self, const: Const, like: Any) -> Any:
        return const.value

    def no_grad(self) -> Any:
        return tl.no_grad()

    def apply(self, op: str, args: list[Any], params: dict[str, Any]) -> Any:
        return OURS[op](*args, **params)

    def in_place(self, op: str, target: Any, args: list[Any], params: dict[str, Any]) -> None:
        value = args[0] if args else None
        if op == "setitem":
            target[params["index"]] = value
        elif op == "zero_":
            target.zero_()
        else:
            getattr(target, op)(value)


class Theirs:
    """PyTorch, float64 where tinygrad_lite is float64 (and float32 where it is float32,
    so that dtypes can be compared)."""

    name = "torch"

    def leaf(self, value: np.ndarray, requires_grad: bool) -> torch.Tensor:
        t = torch.tensor(value)
        # (requires_grad_ only when needed: torch.func refuses the call inside its transforms)
        return t.requires_grad_(True) if requires_grad else t

    def operand(self, const: Const, like: Any) -> Any:
        value = const.value
        if value is None:  # (clip's absent bound)
            return None
        if isinstance(value, (bool, int, float, np.generic)):
            return float(value)  # a Python number: weakly typed, as ours
        if isinstance(value, list) or value.dtype.kind in "biu":
            # lists and int arrays take the tensor's dtype, as numbers do (ops.md)
            return torch.tensor(np.array(value, dtype=np.float64), dtype=like.dtype)
        return torch.tensor(value)

    def no_grad(self) -> Any:
        return torch.no_grad()

    def apply(self, op: str, args: list[Any], params: dict[str, Any]) -> Any:
        out = THEIRS[op](*args, **params)
        if not torch.is_grad_enabled() and out.requires_grad:
            # Documented difference: under no_grad every result is a constant here; PyTorch's
            # views of a tensor that requires grad still require it (as leaves of their own).
            # A copy made under no_grad does not, and keeps its tangent, as ours (forward
            # mode, in both, goes on under no_grad); detach() would drop it.
            out = out.clone()
        return _own(out)

    def in_place(self, op: str, target: Any, args: list[Any], params: dict[str, Any]) -> None:
        value = args[0] if args else None
        if op == "setitem":
            target[_torch_index(params["index"])] = value
        elif op == "zero_":
            target.zero_()
        else:
            getattr(target, op)(value)


def _own(t: torch.Tensor) -> torch.Tensor:
    # Documented difference: outside a recorded graph, tinygrad_lite's results hold data of
    # their own (design.md, "In-place changes are dated"); PyTorch's views share it.
    return t if t.requires_grad else t.clone()


def _torch_index(index: Any) -> Any:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, np.ndarray):
            p = torch.tensor(p)
        elif isinstance(p, Tensor):
            p = torch.tensor(p.data).long()
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _number_as_tensor(y: Any, like: torch.Tensor) -> Any:
    # Documented difference: 2 / t is one correctly rounded division here; PyTorch computes
    # t.reciprocal() * 2, which rounds twice (and gives nan for 0 / a subnormal).
    return torch.full_like(like, y) if isinstance(y, float) else y


def _new(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # Documented difference: a movement op gives a new tensor here, even where it moves
    # nothing; PyTorch's flatten of one axis returns the tensor itself.
    return x.view(x.shape) if out is x else out


def _as_float(indices: torch.Tensor) -> torch.Tensor:
    # Documented difference: argmax and argmin give float64 Tensors of whole numbers here
    # (every Tensor is float), int64 in PyTorch.
    return indices.to(torch.float64)


def _like(value: Any, like: torch.Tensor) -> torch.Tensor:
    """A number as a 0-d tensor of ``like``'s dtype (the functions that take only tensors)."""
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=like.dtype)


def _promoted(x: torch.Tensor, other: torch.Tensor | None = None) -> torch.Tensor:
    # Documented difference: a matrix product of float32 and float64 is float64 here, as
    # in numpy (design.md); PyTorch refuses operands of two dtypes.
    if other is None or x.dtype == other.dtype:
        return x
    return x.to(torch.promote_types(x.dtype, other.dtype))


def _clamp(x: torch.Tensor, low: Any, high: Any) -> torch.Tensor:
    """torch.clamp; where x ties with a bound that is a tensor, one where per bound, as ours.

    Documented difference (design.md): at such a tie PyTorch's clamp gives the gradient to
    x but the output the bound's tangent; ours gives it x's tangent too, so that the two
    modes agree (the gradient and the tangent go where the value came from).
    """
    bounds = [b for b in (low, high) if isinstance(b, torch.Tensor)]
    if not any(bool((x == b).any()) for b in bounds):
        return torch.clamp(x, low, high)
    out = x
    if low is not None:
        out = torch.where(out < low, low, out)
    if high is not None:
        out = torch.where(out > high, high, out)
    return out


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _torch_reduce(name: str) -> Callable[..., torch.Tensor]:
    def reduce(x: torch.Tensor, axis: Any = None, keepdim: bool = False) -> torch.Tensor:
        if axis == ():
            # Documented difference: an empty tuple of axes reduces nothing (numpy's
            # meaning, design.md); PyTorch would reduce every axis.
            return x.clone() if name != "mean" else x / 1
        dims = _axes(axis, x.ndim)
        if name in ("max", "min"):
            sign = 1 if name == "max" else -1  # min is -max(-x), as ours
            if bool(x.isnan().any()):
                return sign * NanMax.apply(sign * x, dims, keepdim)
            return x.amax(dim=dims, keepdim=keepdim) if name == "max" else x.amin(dims, keepdim)
        return getattr(x, name)(dim=dims, keepdim=keepdim)

    return reduce


class NanMax(torch.autograd.Function):
    """amax, but where the maximum is NaN its gradient goes to the NaNs.

    Documented difference (ops.md, "Conventions at the edges"): PyTorch's amax gives every
    element of a NaN group a NaN gradient; tinygrad_lite gives the gradient to the NaNs.
    Used only for an input that holds a NaN; elsewhere max is PyTorch's amax.
    """

    @staticmethod
    def forward(x: torch.Tensor, dims: tuple[int, ...], keepdim: bool) -> torch.Tensor:
        return x.amax(dim=dims, keepdim=keepdim)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        x, dims, keepdim = inputs
        ctx.save_for_backward(x)
        ctx.dims = dims

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (x,) = ctx.saved_tensors
        x = x.detach()
        kept = x.amax(dim=ctx.dims, keepdim=True)
        share = ((x == kept) | (x.isnan() & kept.isnan())).to(x.dtype)
        share = share / share.sum(dim=ctx.dims, keepdim=True)
        return grad.reshape(kept.shape) * share, None, None


# The ops, by name: tinygrad_lite's public methods and operators, and PyTorch's equivalents.
OURS: dict[str, Callable[..., Any]] = {
    "add": lambda x, y: x + y,
    "add_m": lambda x, y: x.add(y),
    "radd": lambda x, y: y + x,
    "sub": lambda x, y: x - y,
    "sub_m": lambda x, y: x.sub(y),
    "rsub": lambda x, y: y - x,
    "mul": lambda x, y: x * y,
    "mul_m": lambda x, y: x.mul(y),
    "rmul": lambda x, y: y * x,
    "div": lambda x, y: x / y,
    "div_m": lambda x, y: x.div(y),
    "rdiv": lambda x, y: y / x,
    "pow": lambda x, y: x**y,
    "pow_m": lambda x, y: x.pow(y),
    "rpow": lambda x, y: y**x,
    "matmul": lambda x, y: x @ y,
    "matmul_m": lambda x, y: x.matmul(y),
    "dot": lambda x, y: x.dot(y),
    "rmatmul": lambda x, y: y @ x,
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "tanh": lambda x: x.tanh(),
    "abs": lambda x: x.abs(),
    "sum": lambda x, **p: x.sum(**p),
    "mean": lambda x, **p: x.mean(**p),
    "max": lambda x, **p: x.max(**p),
    "reshape": lambda x, shape: x.reshape(*shape),
    "permute": lambda x, order: x.permute(*order),
    "transpose": lambda x, ax0, ax1: x.transpose(ax0, ax1),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "expand": lambda x, shape: x.expand(*shape),
    "index": lambda x, index: x[index],
    "astype": lambda x, dtype: x.astype(dtype),
    "detach": lambda x: x.detach(),
    "min": lambda x, **p: x.min(**p),
    "var": lambda x, **p: x.var(**p),
    "std": lambda x, **p: x.std(**p),
    "logsumexp": lambda x, **p: x.logsumexp(**p),
    "argmax": lambda x, **p: x.argmax(**p),
    "argmin": lambda x, **p: x.argmin(**p),
    "softmax": lambda x, axis: x.softmax(axis=axis),
    "log_softmax": lambda x, axis: x.log_softmax(axis=axis),
    "flatten": lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
    "squeeze": lambda x, axis: x.squeeze(axis),
    "unsqueeze": lambda x, axis: x.unsqueeze(axis),
    "clip": lambda x, low, high: x.clip(low, high),
    "clamp": lambda x, low, high: x.clamp(min=low, max=high),
    "maximum": lambda x, y: x.maximum(y),
    "minimum": lambda x, y: x.minimum(y),
    "where": lambda x, y, cond: tl.where(cond, x, y),
    "cat": lambda *xs, axis: tl.cat(list(xs), axis=axis),
    "stack": lambda *xs, axis: tl.stack(list(xs), axis=axis),
}

THEIRS: dict[str, Callable[..., Any]] = {
    **{k: v for k, v in OURS.items() if k in ("add", "radd", "sub", "rsub", "mul", "rmul")},
    "add_m": lambda x, y: x.add(y),
    "sub_m": lambda x, y: x.sub(y),
    "mul_m": lambda x, y: x.mul(y),
    "div": lambda x, y: x / y,
    "div_m": lambda x, y: x.div(y),
    "rdiv": lambda x, y: _number_as_tensor(y, x) / x,
    "pow": lambda x, y: x**y,
    "pow_m": lambda x, y: x.pow(y),
    "rpow": lambda x, y: y**x,
    "matmul": lambda x, y: _promoted(x, y) @ _promoted(y, x),
    "matmul_m": lambda x, y: _promoted(x, y).matmul(_promoted(y, x)),
    "dot": lambda x, y: _promoted(x, y).matmul(_promoted(y, x)),  # numpy's matmul rules
    "rmatmul": lambda x, y: _promoted(y, x) @ _promoted(x, y),
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "tanh": lambda x: x.tanh(),
    "abs": lambda x: x.abs(),
    "sum": _torch_reduce("sum"),
    "mean": _torch_reduce("mean"),
    "max": _torch_reduce("max"),
    "reshape": lambda x, shape: x.reshape(tuple(shape)),
    "permute": lambda x, order: x.permute(tuple(order)),
    "transpose": lambda x, ax0, ax1: x.transpose(ax0, ax1),
    "T": lambda x: x.permute(tuple(reversed(range(x.ndim)))),
    "mT": lambda x: x.mT,
    "expand": lambda x, shape: x.expand(tuple(shape)),
    "index": lambda x, index: x[_torch_index(index)],
    # astype is always a copy, as numpy's; PyTorch's .to returns the tensor itself when
    # the dtype is its own (copy=True asks for the copy).
    "astype": lambda x, dtype: x.to(TORCH_DTYPES[np.dtype(dtype)], copy=True),
    "detach": lambda x: x.detach(),  # (cloned by _own: ours is a copy)
    "min": _torch_reduce("min"),
    "var": lambda x, axis=None, keepdim=False, correction=1: x.var(
        dim=_axes(axis, x.ndim), correction=correction, keepdim=keepdim
    ),
    "std": lambda x, axis=None, keepdim=False, correction=1: x.std(
        dim=_axes(axis, x.ndim), correction=correction, keepdim=keepdim
    ),
    "logsumexp": lambda x, axis=None, keepdim=False: torch.logsumexp(
        x, dim=_axes(axis, x.ndim), keepdim=keepdim
    ),
    "argmax": lambda x, axis=None, keepdim=False: _as_float(x.argmax(dim=axis, keepdim=keepdim)),
    "argmin": lambda x, axis=None, keepdim=False: _as_float(x.argmin(dim=axis, keepdim=keepdim)),
    "softmax": lambda x, axis: torch.softmax(x, dim=axis),
    "log_softmax": lambda x, axis: torch.log_softmax(x, dim=axis),
    "flatten": lambda x, start_dim, end_dim: _new(torch.flatten(x, start_dim, end_dim), x),
    "squeeze": lambda x, axis: x.squeeze() if axis is None else x.squeeze(axis),
    "unsqueeze": lambda x, axis: x.unsqueeze(axis),
    "clip": lambda x, low, high: _clamp(x, low, high),
    "clamp": lambda x, low, high: _clamp(x, low, high),
    "maximum": lambda x, y: torch.maximum(x, _like(y, x)),
    "minimum": lambda x, y: torch.minimum(x, _like(y, x)),
    "where": lambda x, y, cond: torch.where(torch.tensor(cond), x, y),
    "cat": lambda *xs, axis: torch.cat([_like(t, xs[0]) for t in xs], dim=axis),
    "stack": lambda *xs, axis: torch.stack([_like(t, xs[0]) for t in xs], dim=axis),
}

REFLECTED = {"radd", "rsub", "rmul", "rdiv", "rpow", "rmatmul"}


def run(program: Program, fw: Any, leaves: list[Any] | None = None) -> list[Any]:
    """The program's nodes on framework ``fw``, from fresh leaves unless given."""
    if leaves is None:
        leaves = [fw.leaf(v, rg) for v, rg in program.leaves]
    nodes: list[Any] = []
    for step in program.steps:
        if step.op == "leaf":
            nodes.append(leaves[dict(step.params)["k"]])
            continue
        like = nodes[step.target] if step.target is not None else nodes[step.args[0]]
        args = [nodes[a] if isinstance(a, int) else fw.operand(a, like) for a in step.args]
        params = dict(step.params)
        context = fw.no_grad() if step.no_grad else contextlib.nullcontext()
        with context:
            if step.target is not None:
                fw.in_place(step.op, nodes[step.target], args, params)
            else:
                nodes.append(fw.apply(step.op, args, params))
    return nodes


# ------------------------------------------------------------------------- comparisons


class MismatchError(AssertionError):
    """tinygrad_lite and PyTorch disagree (the message says where and how)."""


def compare(what: str, ours: Any, theirs: Any, *, loose: bool = False) -> None:
    """One tensor against PyTorch's: shape, dtype, values (NaN where NaN, inf where inf, and
    finite values to a tolerance that allows for the rounding of a few library calls)."""
    if not isinstance(ours, Tensor):
        raise MismatchError(f"{what}: tinygrad_lite gave {type(ours).__name__}, not a Tensor")
    if type(ours.data) is not np.ndarray:
        raise MismatchError(f"{what}: .data is {type(ours.data).__name__}, not an ndarray")
    expected = theirs.detach()
    if expected._is_zerotensor():  # torch.func.grad's zeros, which do not convert
        expected = torch.zeros(expected.shape, dtype=expected.dtype)
    expected = expected.numpy()
    if ours.shape != expected.shape:
        raise MismatchError(f"{what}: shape {ours.shape}, PyTorch {expected.shape}")
    if ours.dtype != expected.dtype:
        raise MismatchError(f"{what}: dtype {ours.dtype}, PyTorch {expected.dtype}")
    close(what, ours.data, expected, loose=loose or ours.dtype == np.float32)


def close(what: str, got: np.ndarray, expected: np.ndarray, *, loose: bool = False) -> None:
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    # float32: each library rounds each op otherwise, and a difference of 1e-7 of a term
    # survives the cancellation of two terms (x / x): an absolute slack of rtol * scale
    rtol, atol = (2e-4, 2e-4) if loose else (1e-7, 1e-9)
    huge = 1e37 if loose else 1e300  # beyond this, one library's overflow is another's last float
    with np.errstate(all="ignore"):
        nan_got, nan_expected = np.isnan(got), np.isnan(expected)
        finite = np.isfinite(got) & np.isfinite(expected)
        scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
        near = np.abs(got - expected) <= rtol * np.abs(expected) + atol * scale
        same_inf = ~finite & ~nan_got & ~nan_expected & (got == expected)
        overflow = (np.abs(np.where(nan_got, 0, got)) > huge) & (
            np.abs(np.where(nan_expected, 0, expected)) > huge
        )
    ok = (nan_got & nan_expected) | (finite & near) | same_inf | overflow
    if not ok.all():
        where = np.argwhere(~ok)[0]
        i = tuple(where)
        raise MismatchError(
            f"{what}: {int((~ok).sum())} of {ok.size} values differ; at {i}: tinygrad_lite "
            f"{got[i]!r}, PyTorch {expected[i]!r}"
        )


def compare_nodes(ours: list[Any], theirs: list[Any], *, loose: bool = False) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        compare(f"node {i}", a, b, loose=loose)
        if a.requires_grad != b.requires_grad:
            raise MismatchError(
                f"node {i}: requires_grad {a.requires_grad}, PyTorch {b.requires_grad}"
            )
        if a.is_leaf != b.is_leaf:
            raise MismatchError(f"node {i}: is_leaf {a.is_leaf}, PyTorch {b.is_leaf}")


def _zeros_or_none(a: Any, b: Any) -> bool:
    if a is None and b is not None:
        return not bool(b.any())
    if b is None and a is not None:
        return not bool(np.any(a.data))
    return False


def compare_grads(
    what: str,
    ours: list[Any],
    theirs: list[Any],
    *,
    loose: bool = False,
    zeros_or_none: bool = False,
) -> None:
    """The .grad of each leaf (PyTorch's .grad is read only on leaves).

    ``zeros_or_none``, for a second backward: documented difference (design.md, "A zero
    second derivative may leave .grad None"): a leaf reached only through a derivative that
    is constant (relu's, abs's, max's) gets no .grad here, zeros in PyTorch, and one reached
    through x**0's gets zeros here, none in PyTorch.
    """
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if not b.is_leaf:
            continue
        if zeros_or_none and _zeros_or_none(a.grad, b.grad):
            continue
        if (a.grad is None) != (b.grad is None):
            raise MismatchError(f"{what} of leaf {i}: tinygrad_lite {a.grad}, PyTorch {b.grad}")
        if a.grad is not None:
            compare(f"{what} of leaf {i}", a.grad, b.grad, loose=loose)


# ---------------------------------------------------------------------- the generator

SHAPES_BY_NDIM = {
    0: [()],
    1: [(1,), (2,), (3,), (4,)],
    2: [(1, 1), (2, 1), (1, 3), (2, 3), (3, 2), (3, 3)],
    3: [(2, 1, 3), (1, 2, 2), (2, 3, 1), (2, 2, 2)],
    4: [(1, 2, 1, 2), (2, 1, 2, 1), (2, 2, 1, 3)],
}


class Generator:
    """Draws a program on tinygrad_lite, step by step, from ``random.Random(seed)``.

    ``edges``: leaves hold IEEE's special values (0, -0, nan, inf, subnormals) here and
    there, and products with one-element operands are frequent; ``mixed``: float32 leaves
    and float64 constants meet; ``smooth``: no kinks or ties (for optimizer runs).
    """

    def __init__(
        self, seed: int, *, edges: bool = False, mixed: bool = False, smooth: bool = False
    ) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.edges = edges
        self.mixed = mixed
        self.smooth = smooth
        self.leaves: list[tuple[np.ndarray, bool]] = []
        self.steps: list[Step] = []
        self.nodes: list[Tensor] = []  # ours, as generated
        self.in_graph: set[int] = set()  # nodes a recorded op has used (never changed in place)

    # --------------------------------------------------------------------- values

    def shape(self, max_ndim: int = 4) -> tuple[int, ...]:
        ndim = self.rng.choice([0, 1, 1, 2, 2, 2, 3, 4][: 1 + 2 * max_ndim])
        ndim = min(ndim, max_ndim)
        return self.rng.choice(SHAPES_BY_NDIM[ndim])

    def dtype(self) -> Any:
        return np.float32 if self.mixed and self.rng.random() < 0.5 else np.float64

    def array(
        self, shape: tuple[int, ...], dtype: Any = np.float64, low: float = -2.0
    ) -> np.ndarray:
        values = self.np.uniform(low, 2.0, shape)
        if self.edges:
            special = self.np.random(shape) < 0.3
            values = np.where(special, self.np.choice(SPECIAL, shape), values)
        return np.asarray(values, dtype=dtype)

    def add_leaf(
        self,
        shape: tuple[int, ...],
        requires_grad: bool = True,
        low: float = -2.0,
        scale: float = 1.0,
        zero: bool = False,
    ) -> int:
        value = self.array(shape, self.dtype(), low) * np.asarray(scale, dtype=np.float32)
        if zero:
            value[...] = 0.0
        self.leaves.append((value, requires_grad))
        self.nodes.append(Tensor(value, requires_grad=requires_grad))
        self.steps.append(Step("leaf", params=(("k", len(self.leaves) - 1),)))
        return len(self.nodes) - 1

    def constant(self, shape: tuple[int, ...], like: Tensor) -> Const:
        """A constant operand of ``shape``: a number, a list, an array of some dtype."""
        kind = self.rng.choice(["number", "list", "array", "array", "int array", "0-d array"])
        values = self.array(shape, np.float64)
        if kind == "number" or (kind == "list" and (not shape or 0 in shape)):
            return Const(float(self.array((), np.float64)))
        if kind == "list":
            return Const(values.tolist())
        if kind == "int array":
            return Const(
                np.round(values * 2).astype(np.int64)
                if not self.edges
                else values.astype(np.float64)
            )
        if kind == "0-d array":
            return Const(np.asarray(self.array((), self.dtype())))
        return Const(values.astype(self.dtype()))

    # ------------------------------------------------------------------ choosing

    def pick(self, ok: Callable[[Tensor], bool] = lambda t: True) -> int | None:
        """A node that satisfies ``ok``, later ones likelier."""
        choices = [i for i, t in enumerate(self.nodes) if ok(t)]
        if not choices:
            return None
        weights = [1 + i for i in range(len(choices))]
        return self.rng.choices(choices, weights)[0]

    def record(self, step: Step) -> None:
        fw = Ours()
        args = [self.nodes[a] if isinstance(a, int) else fw.operand(a, None) for a in step.args]
        context = tl.no_grad() if step.no_grad else contextlib.nullcontext()
        with context:
            if step.target is not None:
                fw.in_place(step.op, self.nodes[step.target], args, dict(step.params))
            else:
                out = fw.apply(step.op, args, dict(step.params))
                if not isinstance(out, Tensor):
                    raise MismatchError(f"{step.op} gave {type(out).__name__}")
                self.nodes.append(out)
                if out.requires_grad:
                    self.in_graph.update(a for a in step.args if isinstance(a, int))
        self.steps.append(step)

    def program(self) -> Program:
        return Program(list(self.leaves), list(self.steps))

    # --------------------------------------------------------------------- ops

    def draw(self, n_steps: int) -> Program:
        """Leaves (one to three), then ``n_steps`` ops (and the leaves they add)."""
        for _ in range(self.rng.randint(1, 3)):
            self.add_leaf(self.shape(), self.rng.random() < 0.85)
        ops = 0
        while ops < n_steps:
            ops += self.step()
        return self.program()

    def step(self) -> bool:
        kinds = ["unary"] * 4 + ["binary"] * 5 + ["reduce"] * 2 + ["shape"] * 3 + ["matmul"] * 2
        kinds += ["statistic"] * 2 + ["softmax", "squeeze", "join"]
        if not self.smooth:
            kinds += ["index"] * 2 + ["in place", "detach", "choose", "choose", "argmax"]
        if self.mixed:
            kinds += ["astype"]
        kind = self.rng.choice(kinds)
        no_grad = not self.smooth and self.rng.random() < 0.1
        return getattr(self, "op_" + kind.replace(" ", "_"))(no_grad)

    def op_unary(self, no_grad: bool) -> bool:
        names = ["neg", "exp", "log", "sqrt", "sigmoid", "tanh"]
        if not self.smooth:
            names += ["relu", "abs"]
        name = self.rng.choice(names)
        if name in ("log", "sqrt") and not self.edges:
            x = self.pick(lambda t: t.size > 0 and bool(np.all(t.data > 0.05)))
        elif name == "exp" and not self.edges:
            x = self.pick(lambda t: bool(np.all(t.data < 4)))
        else:
            x = self.pick()
        if x is None:
            return False
        self.record(Step(name, (x,), no_grad=no_grad))
        return True

    def op_binary(self, no_grad: bool) -> bool:
        name = self.rng.choice(
            [
                "add",
                "add_m",
                "radd",
                "sub",
                "sub_m",
                "rsub",
                "mul",
                "mul_m",
                "rmul",
                "div",
                "div_m",
                "rdiv",
                "pow",
                "pow_m",
                "rpow",
            ]
        )
        base_ok: Callable[[Tensor], bool] = lambda t: True  # noqa: E731
        if name in ("pow", "pow_m") and not self.edges:
            base_ok = lambda t: bool(np.all(t.data > 0.2)) and bool(np.all(t.data < 5))  # noqa: E731
        x = self.pick(base_ok)
        if x is None:
            return False
        shape = self.nodes[x].shape
        if name in ("pow", "pow_m") and self.rng.random() < 0.5:
            # an exponent that is a number: whole, negative, a half, 0 (not at the edges)
            # (not at the edges: 0, whose rule PyTorch masks with where, and 0.5, whose rule
            # takes x ** -0.5, IEEE's 0 at -inf, where PyTorch's rsqrt gives nan; ops.md)
            exponents = [2, 3, -1, 1.5, -2] + ([] if self.edges else [0, 1, 0.5])
            self.record(Step(name, (x, Const(self.rng.choice(exponents))), no_grad=no_grad))
            return True
        if name == "rpow":
            # a positive base
            base = Const(self.rng.choice([2.0, 0.5, np.e]))
            if not bool(np.all(np.abs(self.nodes[x].data[np.isfinite(self.nodes[x].data)]) < 8)):
                return False
            self.record(Step(name, (x, base), no_grad=no_grad))
            return True
        other_shape = self.broadcastable(shape)
        reflected = name in REFLECTED
        if not reflected and self.rng.random() < 0.6:
            # another node, or a new leaf of a shape that broadcasts
            y_ok: Callable[[Tensor], bool] = lambda t: _broadcasts(t.shape, shape)  # noqa: E731
            if name in ("pow", "pow_m"):
                y_ok = lambda t: _broadcasts(t.shape, shape) and bool(np.all(np.abs(t.data) < 3))  # noqa: E731
            if name in ("div", "div_m") and not self.edges:
                y_ok = lambda t: _broadcasts(t.shape, shape) and bool(np.all(np.abs(t.data) > 0.1))  # noqa: E731
            y = self.pick(y_ok) if self.rng.random() < 0.6 else None
            if y is None:
                low = 0.2 if name in ("div", "div_m") else -2.0
                scale = 0.5 if name in ("pow", "pow_m") else 1.0
                y = self.add_leaf(other_shape, self.rng.random() < 0.8, low, scale)
            self.record(Step(name, (x, y), no_grad=no_grad))
            return True
        const = self.constant(other_shape, self.nodes[x])
        if name in ("div", "div_m", "rdiv") and not self.edges:
            const = Const(_away_from_zero(const.value))
        if (
            name in ("rdiv",)
            and not self.edges
            and not bool(np.all(np.abs(self.nodes[x].data) > 0.1))
        ):
            return False
        if name in ("pow", "pow_m"):
            return False  # handled above
        self.record(Step(name, (x, const), no_grad=no_grad))
        return True

    def broadcastable(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with ``shape`` to ``shape`` or beyond."""
        choice = self.rng.random()
        if choice < 0.4:
            return shape
        if choice < 0.6:
            return ()
        if choice < 0.8 and shape:
            tail = list(shape[self.rng.randint(0, len(shape)) :])
            return tuple(1 if self.rng.random() < 0.3 else n for n in tail)
        if len(shape) < 4:
            return (self.rng.choice([1, 2]), *shape)
        return shape

    def op_reduce(self, no_grad: bool) -> bool:
        name = self.rng.choice(["sum", "mean", "max"] if not self.smooth else ["sum", "mean"])
        x = self.pick(lambda t: t.size > 0)
        if x is None:
            return False
        ndim = self.nodes[x].ndim
        choice = self.rng.random()
        if choice < 0.3 or ndim == 0:
            axis: Any = None if self.rng.random() < 0.8 or not ndim else ()
        elif choice < 0.7:
            axis = self.rng.randrange(-ndim, ndim)
        else:
            picked = self.rng.sample(range(ndim), self.rng.randint(0, ndim))
            axis = tuple(a - ndim if self.rng.random() < 0.3 else a for a in picked)
        keepdim = self.rng.random() < 0.4
        params = (("axis", axis), ("keepdim", keepdim))
        self.record(Step(name, (x,), params, no_grad=no_grad))
        return True

    def op_shape(self, no_grad: bool) -> bool:
        x = self.pick()
        if x is None:
            return False
        shape = self.nodes[x].shape
        ndim = len(shape)
        names = ["reshape", "permute", "T", "expand", "expand"]
        if ndim >= 1:
            names.append("transpose")
        if ndim >= 2:
            names.append("mT")
        name = self.rng.choice(names)
        params: tuple[tuple[str, Any], ...] = ()
        if name == "reshape":
            sizes = list(shape) + [1] * self.rng.randint(0, 2)
            self.rng.shuffle(sizes)
            if sizes and self.rng.random() < 0.3 and math.prod(shape) > 0:
                sizes[self.rng.randrange(len(sizes))] = -1
            if self.rng.random() < 0.2:
                sizes = [-1]
            params = (("shape", tuple(sizes)),)
        elif name == "permute":
            order = list(range(ndim))
            self.rng.shuffle(order)
            params = (("order", tuple(a - ndim if self.rng.random() < 0.3 else a for a in order)),)
        elif name == "transpose":
            params = (
                ("ax0", self.rng.randrange(-ndim, ndim)),
                ("ax1", self.rng.randrange(-ndim, ndim)),
            )
        elif name == "expand":
            if self.rng.random() < 0.4:
                target = tuple(shape)  # to its own shape
            else:
                lead = [
                    self.rng.choice([1, 2]) for _ in range(self.rng.randint(0, max(0, 4 - ndim)))
                ]
                target = (*lead, *(self.rng.choice([1, 2, 3]) if n == 1 else n for n in shape))
            params = (("shape", target),)
        self.record(Step(name, (x,), params, no_grad=no_grad))
        return True

    def op_index(self, no_grad: bool) -> bool:
        x = self.pick(lambda t: t.ndim >= 1 and min(t.shape) > 0)
        if x is None:
            return False
        shape = self.nodes[x].shape
        kind = self.rng.choice(["basic", "basic", "array", "arrays", "mask", "tensor"])
        index: Any
        if kind == "basic":
            parts: list[Any] = []
            for n in shape:
                c = self.rng.random()
                if c < 0.3:
                    parts.append(self.rng.randrange(-n, n))
                elif c < 0.8:
                    start = self.rng.randint(0, n - 1)
                    parts.append(
                        slice(start, self.rng.randint(start, n), self.rng.choice([1, 1, 2]))
                    )
                else:
                    parts.append(slice(None))
            if self.rng.random() < 0.2:
                parts.insert(self.rng.randint(0, len(parts)), None)
            if self.rng.random() < 0.2 and parts:
                parts = parts[: self.rng.randint(0, len(parts))] + [Ellipsis]
            index = tuple(parts)
        elif kind == "array":
            axis = self.rng.randrange(len(shape))
            picks = np.array(
                [self.rng.randrange(shape[axis]) for _ in range(self.rng.randint(1, 4))]
            )
            index = (slice(None),) * axis + (picks,)
        elif kind == "arrays":
            count = self.rng.randint(1, 3)
            index = tuple(
                np.array([self.rng.randrange(n) for _ in range(count)]) for n in shape[:2]
            )
        elif kind == "mask":
            index = self.np.random(shape) < 0.5
        else:
            index = Tensor(float(self.rng.randrange(shape[0])))
            index = (index,)
        self.record(Step("index", (x,), (("index", index),), no_grad=no_grad))
        return True

    def op_matmul(self, no_grad: bool) -> bool:
        name = self.rng.choice(["matmul", "matmul_m", "dot", "rmatmul"])
        if self.edges and name != "rmatmul" and self.rng.random() < 0.5:
            # a product with a one-element operand, (n, 1) @ (1, 1) or (1, 1) @ (1, m): the
            # shapes where numpy's dot scales by that element and skips a scale of 0
            zero = self.rng.random() < 0.4  # the one element 0, often
            if self.rng.random() < 0.5:
                x = self.add_leaf((self.rng.choice([1, 2, 3]), 1))
                y = self.add_leaf((1, 1), zero=zero)
            else:
                x = self.add_leaf((1, 1), zero=zero)
                y = self.add_leaf((1, self.rng.choice([1, 2, 3])))
            self.record(Step(name, (x, y), no_grad=no_grad))
            return True
        x = self.pick(lambda t: t.ndim >= 1)
        if x is None:
            return False
        xs = self.nodes[x].shape
        if name == "rmatmul":
            # a constant on the left: (..., n, k) @ x
            k = xs[-2] if len(xs) >= 2 else xs[0]
            left = (self.rng.choice([1, 2, 3]), k) if self.rng.random() < 0.7 else (k,)
            const = Const(self.array(left, self.dtype()))
            self.record(Step(name, (x, const), no_grad=no_grad))
            return True
        k = xs[-1]
        choice = self.rng.random()
        if choice < 0.3:
            other: tuple[int, ...] = (k,)
        elif choice < 0.8 or len(xs) > 3:
            other = (k, self.rng.choice([1, 1, 2, 3]))
        else:  # a batch of matrices: one, or as many as x has
            batch = xs[-3] if len(xs) >= 3 else self.rng.choice([1, 2])
            other = (self.rng.choice([1, batch]), k, self.rng.choice([1, 2]))
        if self.edges and self.rng.random() < 0.5:
            other = (k, 1) if k == 1 else other
        y = self.pick(lambda t: t.shape == other) if self.rng.random() < 0.3 else None
        if y is None:
            y = self.add_leaf(other, self.rng.random() < 0.8)
        self.record(Step(name, (x, y), no_grad=no_grad))
        return True

    def op_in_place(self, no_grad: bool) -> bool:
        # only tensors outside any graph: PyTorch's saved-tensor check and ours differ in
        # which uses they refuse, and neither allows a change in place to a graph's tensor
        x = self.pick(lambda t: not t.requires_grad)
        if x is None or x in self.in_graph:
            return False
        shape = self.nodes[x].shape
        name = self.rng.choice(["add_", "sub_", "mul_", "copy_", "zero_", "setitem"])
        if name == "zero_":
            self.record(Step(name, (), target=x))
            return True
        value_shape = self.rng.choice([shape, (), shape[1:] if shape else ()])
        params: tuple[tuple[str, Any], ...] = ()
        if name == "setitem":
            if not shape or min(shape) == 0:
                return False
            params = (("index", (self.rng.randrange(shape[0]),)),)
            value_shape = self.rng.choice([shape[1:], ()])
        self.record(Step(name, (self.constant(value_shape, self.nodes[x]),), params, target=x))
        return True

    def reduced_axes(self, ndim: int, empty: bool = True) -> Any:
        """An axis argument: None, an int, or a tuple (the empty one only if ``empty``)."""
        choice = self.rng.random()
        if choice < 0.3 or ndim == 0:
            return None if self.rng.random() < 0.8 or not ndim or not empty else ()
        if choice < 0.7:
            return self.rng.randrange(-ndim, ndim)
        picked = self.rng.sample(range(ndim), self.rng.randint(0 if empty else 1, ndim))
        return tuple(a - ndim if self.rng.random() < 0.3 else a for a in picked)

    def op_statistic(self, no_grad: bool) -> bool:
        """min, var, std, logsumexp (the reductions composed from others)."""
        names = ["var", "std", "logsumexp"] + ([] if self.smooth else ["min"])
        name = self.rng.choice(names)
        x = self.pick(lambda t: t.size > 0)
        if x is None:
            return False
        shape = self.nodes[x].shape
        # (axis=() differs by design, as for sum: PyTorch reduces every axis)
        axis = self.reduced_axes(len(shape), empty=name == "min")
        params: list[tuple[str, Any]] = [("axis", axis), ("keepdim", self.rng.random() < 0.4)]
        if name != "min" and not np.isfinite(self.nodes[x].data).all():
            # documented difference (design.md): composed, var, std and logsumexp give a nan
            # gradient to a whole slice that holds an inf or a nan
            return False
        if name in ("var", "std"):
            count = math.prod(shape[a] for a in _axes_of(axis, len(shape)))
            correction = self.rng.choice([0, 1]) if count > 1 else 0
            params.append(("correction", correction))
            if name == "std":
                with tl.no_grad():
                    value = self.nodes[x].std(axis=axis, correction=correction).data
                if not value.all():
                    # documented difference: at a std of 0 the gradient is 0 (PyTorch's
                    # choice), its own derivative 0 here and nan in PyTorch
                    return False
        self.record(Step(name, (x,), tuple(params), no_grad=no_grad))
        return True

    def op_argmax(self, no_grad: bool) -> bool:
        x = self.pick(lambda t: t.size > 0)
        if x is None:
            return False
        ndim = self.nodes[x].ndim
        axis = None if ndim == 0 or self.rng.random() < 0.3 else self.rng.randrange(-ndim, ndim)
        params = (("axis", axis), ("keepdim", self.rng.random() < 0.4))
        self.record(Step(self.rng.choice(["argmax", "argmin"]), (x,), params, no_grad=no_grad))
        return True

    def op_softmax(self, no_grad: bool) -> bool:
        x = self.pick(lambda t: t.ndim >= 1)
        if x is None:
            return False
        ndim = self.nodes[x].ndim
        name = self.rng.choice(["softmax", "log_softmax"])
        self.record(Step(name, (x,), (("axis", self.rng.randrange(-ndim, ndim)),), no_grad=no_grad))
        return True

    def op_squeeze(self, no_grad: bool) -> bool:
        """flatten, squeeze, unsqueeze."""
        x = self.pick()
        if x is None:
            return False
        ndim = self.nodes[x].ndim
        name = self.rng.choice(["flatten", "squeeze", "unsqueeze"])
        params: tuple[tuple[str, Any], ...]
        if name == "flatten":
            if ndim == 0:
                params = (("start_dim", 0), ("end_dim", -1))
            else:
                start = self.rng.randrange(ndim)
                end = self.rng.randrange(start, ndim)
                params = (
                    ("start_dim", start - ndim if self.rng.random() < 0.3 else start),
                    ("end_dim", end - ndim if self.rng.random() < 0.5 else end),
                )
        elif name == "squeeze":
            if ndim == 0 or self.rng.random() < 0.3:
                axis: Any = None
            elif self.rng.random() < 0.5:
                axis = self.rng.randrange(-ndim, ndim)
            else:
                axis = tuple(self.rng.sample(range(ndim), self.rng.randint(1, ndim)))
            params = (("axis", axis),)
        else:
            if ndim >= 4:
                return False
            params = (("axis", self.rng.randrange(-ndim - 1, ndim + 1)),)
        self.record(Step(name, (x,), params, no_grad=no_grad))
        return True

    def op_choose(self, no_grad: bool) -> bool:
        """maximum, minimum, clip (clamp), where."""
        x = self.pick()
        if x is None:
            return False
        shape = self.nodes[x].shape
        name = self.rng.choice(["maximum", "minimum", "clip", "clamp", "where", "where"])
        other_shape = self.broadcastable(shape)
        other: Any
        if self.rng.random() < 0.5:
            other = self.pick(lambda t: _broadcasts(t.shape, shape) and t is not self.nodes[x])
        else:
            other = None
        if other is None:
            other = (
                self.add_leaf(other_shape, self.rng.random() < 0.8)
                if self.rng.random() < 0.6
                else self.constant(other_shape, self.nodes[x])
            )
        if name in ("clip", "clamp"):
            bounds: list[Any] = [other, Const(None)]
            if self.rng.random() < 0.5:
                bounds.reverse()
            if self.rng.random() < 0.3:
                bounds = [Const(-0.5), Const(0.5)]
            values = [self.nodes[x].data] + [
                self.nodes[b].data if isinstance(b, int) else np.asarray(b.value, dtype=float)
                for b in bounds
                if not (isinstance(b, Const) and b.value is None)
            ]
            if any(np.isnan(v).any() for v in values):
                # documented difference (ops.md): at a nan, PyTorch's clamp gives no gradient
                return False
            self.record(Step(name, (x, *bounds), no_grad=no_grad))
            return True
        if name == "where":
            cond = self.np.random(self.broadcastable(shape)) < 0.5
            self.record(Step(name, (x, other), (("cond", cond),), no_grad=no_grad))
            return True
        if isinstance(other, Const) and isinstance(other.value, list):
            other = Const(np.asarray(other.value))  # (maximum takes arrays and numbers)
        self.record(Step(name, (x, other), no_grad=no_grad))
        return True

    def op_join(self, no_grad: bool) -> bool:
        """cat and stack: parts of a shape that fits, nodes, new leaves or constants."""
        name = self.rng.choice(["cat", "stack"])
        x = self.pick(lambda t: t.ndim >= 1 or name == "stack")
        if x is None:
            return False
        shape = self.nodes[x].shape
        ndim = len(shape)
        if name == "stack":
            axis = self.rng.randrange(-ndim - 1, ndim + 1)
        else:
            axis = self.rng.randrange(-ndim, ndim)
        parts: list[Any] = [x]
        for _ in range(self.rng.randint(1, 3)):
            part_shape = list(shape)
            if name == "cat":
                part_shape[axis] = self.rng.choice([1, 2])
            part_shape_t = tuple(part_shape)
            found = (
                self.pick(lambda t, s=part_shape_t: t.shape == s)
                if self.rng.random() < 0.4
                else None
            )
            if found is not None:
                parts.append(found)
            elif self.rng.random() < 0.7:
                parts.append(self.add_leaf(part_shape_t, self.rng.random() < 0.8))
            else:
                parts.append(Const(self.array(part_shape_t, self.dtype())))
        self.rng.shuffle(parts)
        if not isinstance(parts[0], int):
            parts.insert(0, parts.pop(parts.index(x)))  # a Tensor first (it sets the dtype)
        self.record(Step(name, tuple(parts), (("axis", axis),), no_grad=no_grad))
        return True

    def op_detach(self, no_grad: bool) -> bool:
        x = self.pick()
        if x is None:
            return False
        self.record(Step("detach", (x,)))
        return True

    def op_astype(self, no_grad: bool) -> bool:
        x = self.pick()
        if x is None:
            return False
        dtype = self.rng.choice([np.float32, np.float64])
        self.record(Step("astype", (x,), (("dtype", dtype),), no_grad=no_grad))
        return True


def _axes_of(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(a, b) == b
    except ValueError:
        return False


def _away_from_zero(value: Any) -> Any:
    if isinstance(value, list):
        return [_away_from_zero(v) for v in value]
    if isinstance(value, np.ndarray):
        away = 1 if value.dtype.kind in "iu" else 0.5
        return np.where(np.abs(value) < 0.2, away, value).astype(value.dtype)
    return value if abs(value) >= 0.2 else 0.5


def requiring(nodes: list[Any]) -> list[int]:
    return [i for i, t in enumerate(nodes) if t.requires_grad]


def weights_for(program_seed: int, nodes: list[Tensor]) -> dict[int, np.ndarray]:
    """The loss's weights: a random array for each of a few nodes that require grad."""
    rng = np.random.default_rng(program_seed + 7)
    candidates = [i for i in requiring(nodes) if nodes[i].size > 0]
    picked = candidates[-3:] if candidates else []
    return {i: rng.uniform(-1, 1, nodes[i].shape) for i in picked}


def loss(nodes: list[Any], weights: dict[int, np.ndarray], fw: Any) -> Any:
    total = None
    for i, w in weights.items():
        weight = w if isinstance(fw, Ours) else torch.tensor(w)
        term = (nodes[i] * weight).sum()
        total = term if total is None else total + term
    return total
