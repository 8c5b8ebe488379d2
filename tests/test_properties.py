"""Every differentiable op of Tensor, checked against finite differences by hypothesis.

``OPS`` is the one table of them: each row names the Tensor attribute it exercises, how
it is called, the domain of each operand and the kind of case it needs. The tests draw,
for every row, random shapes from 0-d to 3-d, every broadcast of a pair of operands
(either one of them a constant), random axes with and without keepdim, random matmul
shapes, and then whole random graphs built from the table, and check the gradient
(``tl.gradcheck``) and the second derivative (``tl.gradgradcheck``) of each.

Non-smooth ops are checked away from their kinks and ties, which their domains ensure:
relu, abs and clip see no element within 0.1 of their kinks, max, min and max_pool2d no
two elements within 0.01, maximum no tie (its second operand is within 0.05 of zero, the
first at least 0.1 from it), std no slice without a spread.
``test_the_table_lists_every_differentiable_method`` keeps the table complete.
"""

from __future__ import annotations

import functools
import math
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, testing

MAX_SIDE = 3  # 3-d shapes of up to 27 elements: every Jacobian entry is checked

# Tighter than gradcheck's defaults (which accept 0.1% error): float64 central differences
# are good to about 1e-9 relative on these domains, and a rule off by 1e-4 must fail.
TOLERANCE = {"atol": 1e-6, "rtol": 1e-5}

# These tests are the heart of the suite, so each runs EXAMPLES_FACTOR times the examples
# of the hypothesis profile (tests/conftest.py): 120 with "ci", 80 with "dev" (the file's
# running time: docs/design.md, "The property tests").
EXAMPLES_FACTOR = 2
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES_FACTOR * settings.default.max_examples)

# The arguments of testing.arrays for each domain the table names.
DOMAINS: dict[str, dict[str, Any]] = {
    "real": {"domain": "real"},
    "positive": {"domain": "positive"},  # log, sqrt, the base of pow
    "nonzero": {"domain": "nonzero"},  # a divisor; relu and abs, away from the kink
    "distinct": {"domain": "real", "distinct": True},  # max, without ties
    # maximum's second operand, against a "nonzero" first one: never a tie
    "small": {"domain": "real", "min_value": -0.05, "max_value": 0.05},
    # var and std: no two elements alike, so a spread of at least two is never 0
    "spread": {"domain": "real", "distinct": True},
}

Draw = Callable[[st.SearchStrategy[Any]], Any]
Shape = tuple[int, ...]


@dataclass(frozen=True)
class Op:
    """One row of the table: a public Tensor attribute and how to check it.

    ``fn(*operands, **params)`` runs the op; ``domains`` gives each operand's domain;
    ``kind`` says which case the op needs:

    - "unary": one tensor of any shape (``min_dims`` or more dimensions);
    - "binary": two operands of shapes that broadcast; the first is a Tensor, the second
      a Tensor or a constant (a Tensor that needs no grad, an array or a number);
    - "reflected": a constant (array or number) on the left, a Tensor on the right;
    - "reduction": one tensor, a random axis argument and keepdim;
    - "matmul": two operands of shapes that matmul accepts (a constant first operand
      for the reflected form);
    - "shape": one tensor and parameters drawn for its shape by ``params``;
    - "image": conv2d and the poolings: an image (N, C, H, W), and for conv2d a weight and a
      bias, with kernel, stride and padding drawn to fit;
    - "classes": the classification losses: logits (N, C) and N class indices.

    A row's ``name`` is a public attribute of Tensor, or a function (``tl.where``,
    ``nn.conv2d``) when it holds a dot.
    """

    id: str
    name: str
    fn: Callable[..., Tensor]
    domains: tuple[str, ...] = ("real",)
    kind: str = "unary"
    params: Callable[[Draw, Shape], dict[str, Any]] | None = None
    min_dims: int = 0

    def __repr__(self) -> str:
        return f"OPS[{self.id!r}]"


# ---------------------------------------------------------- parameters of shape ops


def _reshape_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    # The same sizes, reordered, with 1s inserted; or one -1 standing for a size.
    sizes = list(shape) + [1] * draw(st.integers(0, 2))
    target = list(draw(st.permutations(sizes)))
    if target and math.prod(shape) > 0 and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    flatten = draw(st.booleans())
    return {"shape": (-1,) if flatten else tuple(target)}


def _transpose_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    axis = st.integers(-len(shape), len(shape) - 1)
    return {"ax0": draw(axis), "ax1": draw(axis)}


def _permute_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    order = draw(st.permutations(range(len(shape))))
    negative = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return {"order": tuple(a - len(shape) if neg else a for a, neg in zip(order, negative))}


def _expand_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    stretched = [draw(st.integers(1, 3)) if n == 1 else n for n in shape]
    return {"shape": (*lead, *stretched)}


def _index_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    choices = [hnp.basic_indices(shape, allow_newaxis=True)]
    if shape and min(shape) > 0:
        choices.append(hnp.integer_array_indices(shape))
        # an integer array (with repeats) along one axis, slices elsewhere
        axis = draw(st.integers(0, len(shape) - 1))
        picks = hnp.arrays(
            np.intp, draw(st.integers(1, 4)), elements=st.integers(0, shape[axis] - 1)
        )
        choices.append(picks.map(lambda idx: (slice(None),) * axis + (idx,)))
    return {"index": draw(st.one_of(choices))}


def _reduction_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    return {"axis": draw(testing.axes(len(shape))), "keepdim": draw(st.booleans())}


def _one_axis_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    ndim = max(len(shape), 1)  # a 0-d tensor takes axis 0 or -1
    return {"axis": draw(st.integers(-ndim, ndim - 1))}


def _spread_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    # correction 1 over a single element divides by 0: it takes correction 0 there
    axis = draw(testing.axes(len(shape)))
    count = math.prod(shape[a] for a in _axes_of(axis, len(shape)))
    correction = draw(st.sampled_from([0, 1])) if count >= 2 else 0
    return {"axis": axis, "keepdim": draw(st.booleans()), "correction": correction}


def _axes_of(axis: Any, ndim: int) -> tuple[int, ...]:
    """An axis argument as the tuple of axes it names."""
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _flatten_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    ndim = max(len(shape), 1)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    negative = draw(st.booleans())
    return {"start_dim": start, "end_dim": end - ndim if negative else end}


def _squeeze_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    return {"axis": draw(st.one_of(st.none(), testing.axes(max(len(shape), 1))))}


def _unsqueeze_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    return {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _stack_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    return {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _int_exponent(draw: Draw, shape: Shape) -> dict[str, Any]:
    return {"n": draw(st.integers(-3, 4))}


def _astype_params(draw: Draw, shape: Shape) -> dict[str, Any]:
    # float64 to float64 (a copy): float32's 7 digits are too few for central differences.
    return {"dtype": draw(st.sampled_from([np.float64, "float64", np.dtype(np.float64)]))}


def _iterate(x: Tensor) -> Tensor:
    """The elements along the first axis, added up one by one (Python's iteration)."""
    return functools.reduce(operator.add, x)


# ------------------------------------------------------------------------- the table

OPS = [
    # elementwise, one operand
    Op("neg", "neg", lambda x: x.neg()),
    Op("-x", "__neg__", operator.neg),
    Op("exp", "exp", lambda x: x.exp()),
    Op("log", "log", lambda x: x.log(), ("positive",)),
    Op("sqrt", "sqrt", lambda x: x.sqrt(), ("positive",)),
    Op("sigmoid", "sigmoid", lambda x: x.sigmoid()),
    Op("tanh", "tanh", lambda x: x.tanh()),
    Op("relu", "relu", lambda x: x.relu(), ("nonzero",)),
    Op("abs", "abs", lambda x: x.abs(), ("nonzero",)),
    Op("x**n", "__pow__", lambda x, n: x**n, ("nonzero",), params=_int_exponent),
    Op("clip", "clip", lambda x: x.clip(0.0, 5.0), ("nonzero",)),  # (away from the kink at 0)
    Op("clamp", "clamp", lambda x: x.clamp(max=0.0), ("nonzero",)),
    Op("dropout", "nn.dropout", lambda x: nn.dropout(x, 0.5, rng=np.random.default_rng(0))),
    # elementwise, two operands that broadcast
    Op("add", "add", lambda x, y: x.add(y), ("real", "real"), "binary"),
    Op("x+y", "__add__", operator.add, ("real", "real"), "binary"),
    Op("sub", "sub", lambda x, y: x.sub(y), ("real", "real"), "binary"),
    Op("x-y", "__sub__", operator.sub, ("real", "real"), "binary"),
    Op("mul", "mul", lambda x, y: x.mul(y), ("real", "real"), "binary"),
    Op("x*y", "__mul__", operator.mul, ("real", "real"), "binary"),
    Op("div", "div", lambda x, y: x.div(y), ("real", "nonzero"), "binary"),
    Op("x/y", "__truediv__", operator.truediv, ("real", "nonzero"), "binary"),
    Op("pow", "pow", lambda x, y: x.pow(y), ("positive", "real"), "binary"),
    Op("x**y", "__pow__", operator.pow, ("positive", "real"), "binary"),
    Op("maximum", "maximum", lambda x, y: x.maximum(y), ("nonzero", "small"), "binary"),
    Op("minimum", "minimum", lambda x, y: x.minimum(y), ("nonzero", "small"), "binary"),
    Op("where", "tl.where", lambda x, y: tl.where(x.data > 0, x, y), ("nonzero", "real"), "binary"),
    # reflected: a constant on the left
    Op("c+x", "__radd__", operator.add, ("real", "real"), "reflected"),
    Op("c-x", "__rsub__", operator.sub, ("real", "real"), "reflected"),
    Op("c*x", "__rmul__", operator.mul, ("real", "real"), "reflected"),
    Op("c/x", "__rtruediv__", operator.truediv, ("real", "nonzero"), "reflected"),
    Op("c**x", "__rpow__", operator.pow, ("positive", "real"), "reflected"),
    # matmul: 1-D, 2-D and batched operands
    Op("matmul", "matmul", lambda x, y: x.matmul(y), ("real", "real"), "matmul"),
    Op("dot", "dot", lambda x, y: x.dot(y), ("real", "real"), "matmul"),
    Op("x@y", "__matmul__", operator.matmul, ("real", "real"), "matmul"),
    Op("c@x", "__rmatmul__", operator.matmul, ("real", "real"), "matmul"),
    # reductions
    Op("sum", "sum", lambda x, **p: x.sum(**p), kind="reduction", params=_reduction_params),
    Op("mean", "mean", lambda x, **p: x.mean(**p), kind="reduction", params=_reduction_params),
    Op(
        "max",
        "max",
        lambda x, **p: x.max(**p),
        ("distinct",),
        kind="reduction",
        params=_reduction_params,
    ),
    Op(
        "min",
        "min",
        lambda x, **p: x.min(**p),
        ("distinct",),
        kind="reduction",
        params=_reduction_params,
    ),
    Op("var", "var", lambda x, **p: x.var(**p), ("spread",), "reduction", _spread_params),
    Op("std", "std", lambda x, **p: x.std(**p), ("spread",), "reduction", _spread_params),
    Op(
        "logsumexp",
        "logsumexp",
        lambda x, **p: x.logsumexp(**p),
        kind="reduction",
        params=_reduction_params,
    ),
    # along one axis
    Op(
        "softmax", "softmax", lambda x, axis: x.softmax(axis), kind="shape", params=_one_axis_params
    ),
    Op(
        "log_softmax",
        "log_softmax",
        lambda x, axis: x.log_softmax(axis),
        kind="shape",
        params=_one_axis_params,
    ),
    # shape and movement
    Op(
        "reshape",
        "reshape",
        lambda x, shape: x.reshape(*shape),
        kind="shape",
        params=_reshape_params,
    ),
    Op(
        "transpose",
        "transpose",
        lambda x, ax0, ax1: x.transpose(ax0, ax1),
        kind="shape",
        params=_transpose_params,
        min_dims=1,
    ),
    Op(
        "permute",
        "permute",
        lambda x, order: x.permute(*order),
        kind="shape",
        params=_permute_params,
    ),
    Op("T", "T", lambda x: x.T, kind="shape"),
    Op("mT", "mT", lambda x: x.mT, kind="shape", min_dims=2),
    Op("expand", "expand", lambda x, shape: x.expand(*shape), kind="shape", params=_expand_params),
    Op("x[i]", "__getitem__", lambda x, index: x[index], kind="shape", params=_index_params),
    Op("astype", "astype", lambda x, dtype: x.astype(dtype), kind="shape", params=_astype_params),
    Op("iter", "__iter__", _iterate, kind="shape", min_dims=1),
    Op("flatten", "flatten", lambda x, **p: x.flatten(**p), kind="shape", params=_flatten_params),
    Op("squeeze", "squeeze", lambda x, **p: x.squeeze(**p), kind="shape", params=_squeeze_params),
    Op(
        "unsqueeze",
        "unsqueeze",
        lambda x, **p: x.unsqueeze(**p),
        kind="shape",
        params=_unsqueeze_params,
    ),
    Op(
        "cat",
        "tl.cat",
        lambda x, axis: tl.cat([x, x.exp()], axis),
        kind="shape",
        params=_one_axis_params,
        min_dims=1,
    ),
    Op(
        "stack",
        "tl.stack",
        lambda x, axis: tl.stack([x, x * x], axis),
        kind="shape",
        params=_stack_params,
    ),
    # images and classes
    Op(
        "conv2d",
        "nn.conv2d",
        lambda x, w, b, **p: nn.conv2d(x, w, b, **p),
        ("real", "real", "real"),
        "image",
    ),
    Op("max_pool2d", "nn.max_pool2d", lambda x, **p: nn.max_pool2d(x, **p), ("distinct",), "image"),
    Op("avg_pool2d", "nn.avg_pool2d", lambda x, **p: nn.avg_pool2d(x, **p), kind="image"),
    Op(
        "cross_entropy",
        "nn.cross_entropy",
        lambda x, target, **p: nn.cross_entropy(x, target, **p),
        kind="classes",
    ),
    Op(
        "nll_loss",
        "nn.nll_loss",
        lambda x, target, **p: nn.nll_loss(x, target, **p),
        kind="classes",
    ),
]

# Public attributes of Tensor that are not differentiable ops, and why.
NOT_DIFFERENTIABLE = {
    "__init__": "the constructor",
    "argmax": "indices",
    "argmin": "indices",
    "__array__": "hands the data to numpy",
    "__array_function__": "hands the data to numpy's functions",
    "__bool__": "a Python bool",
    "__float__": "a Python float",
    "__len__": "an int",
    "__repr__": "text",
    "__setitem__": "an in-place change",
    "add_": "an in-place change",
    "sub_": "an in-place change",
    "mul_": "an in-place change",
    "copy_": "an in-place change",
    "zero_": "an in-place change",
    "backward": "runs the backward pass",
    "detach": "cuts the graph",
    "numpy": "a copy of the data",
    "item": "a Python float",
    "tolist": "Python lists",
    "shape": "metadata",
    "ndim": "metadata",
    "size": "metadata",
    "dtype": "metadata",
    "is_leaf": "metadata",
    "zeros": "a constructor",
    "ones": "a constructor",
    "eye": "a constructor",
    "uniform": "a constructor",
    "randn": "a constructor",
}


def _public_attributes(cls: type) -> set[str]:
    """Methods, properties and operators that the class defines for its users."""
    names = set()
    for name, value in vars(cls).items():
        dunder = name.startswith("__") and name.endswith("__")
        if name.startswith("_") and not dunder:
            continue
        if callable(value) or isinstance(value, (property, staticmethod, classmethod)):
            names.add(name)
    return names


def test_the_table_lists_every_differentiable_method() -> None:
    public = _public_attributes(Tensor)
    functions = [op.name for op in OPS if "." in op.name]
    tabled = {op.name for op in OPS} - set(functions)
    for name in functions:
        module, attribute = name.split(".")
        assert callable(getattr({"tl": tl, "nn": nn}[module], attribute, None)), name
    missing = public - tabled - set(NOT_DIFFERENTIABLE)
    assert not missing, (
        f"Tensor has public attributes that neither the op table (OPS) nor "
        f"NOT_DIFFERENTIABLE lists: {sorted(missing)}; add each one where it belongs"
    )
    stale = (tabled | set(NOT_DIFFERENTIABLE)) - public
    assert not stale, f"listed but no longer on Tensor: {sorted(stale)}"
    assert not tabled & set(NOT_DIFFERENTIABLE)
    assert len({op.id for op in OPS}) == len(OPS)


# --------------------------------------------------------------------------- the cases


@dataclass
class Case:
    """f and the inputs to check it at; constants are inside f."""

    f: Callable[..., Tensor]
    inputs: list[Tensor]
    text: str

    def __repr__(self) -> str:
        return self.text


def _tensor(draw: Draw, shape: Shape, domain: str, requires_grad: bool = True) -> Tensor:
    return draw(testing.tensors(shape, requires_grad=requires_grad, **DOMAINS[domain]))


def _constant(draw: Draw, shape: Shape, domain: str) -> Any:
    """A constant operand: a Tensor that needs no grad, a numpy array, or a number."""
    array = draw(testing.arrays(shape, **DOMAINS[domain]))
    forms = ["tensor", "array"] + (["number"] if shape == () else [])
    form = draw(st.sampled_from(forms))
    if form == "number":
        return array.item()
    return Tensor(array) if form == "tensor" else array


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"Tensor{value.shape}" + (" (grad)" if value.requires_grad else "")
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return repr(value)


def _case(draw: Draw, op: Op) -> Case:
    """A random case for ``op``: its operands (checked or constant) and its parameters."""
    operands: list[Any]
    params: dict[str, Any] = {}
    if op.kind == "image":
        operands, params = _image_case(draw, op)
    elif op.kind == "classes":
        n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        labels = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
        operands = [_tensor(draw, (n, classes), "real"), np.array(labels)]
        params = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    elif op.kind in ("unary", "reduction", "shape"):
        min_side = 1 if op.kind == "reduction" or op.name == "__iter__" else 0
        shape = draw(testing.shapes(min_dims=op.min_dims, min_side=min_side, max_side=MAX_SIDE))
        operands = [_tensor(draw, shape, op.domains[0])]
    elif op.kind in ("binary", "reflected"):
        shapes = draw(testing.broadcastable_shapes(2, min_side=0, max_side=MAX_SIDE))
        if op.kind == "reflected":
            first = _constant(draw, shapes[0], op.domains[0])
            operands = [first, _tensor(draw, shapes[1], op.domains[1])]
        else:
            # the first operand is the Tensor whose method runs; either may be a constant
            checked = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
            x = _tensor(draw, shapes[0], op.domains[0], requires_grad=checked[0])
            y = (
                _tensor(draw, shapes[1], op.domains[1])
                if checked[1]
                else _constant(draw, shapes[1], op.domains[1])
            )
            operands = [x, y]
    else:  # matmul
        shapes = draw(testing.matmul_shapes(max_side=MAX_SIDE))
        if op.name == "__rmatmul__":
            operands = [
                draw(testing.arrays(shapes[0])),
                _tensor(draw, shapes[1], op.domains[1]),
            ]
        else:
            checked = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
            operands = [
                _tensor(draw, shape, domain, requires_grad)
                for shape, domain, requires_grad in zip(shapes, op.domains, checked)
            ]
    if op.params:
        params = op.params(draw, operands[0].shape)
    checked_positions = [
        i for i, a in enumerate(operands) if isinstance(a, Tensor) and a.requires_grad
    ]

    def f(*inputs: Tensor) -> Tensor:
        args = list(operands)
        for i, x in zip(checked_positions, inputs):
            args[i] = x
        return op.fn(*args, **params)

    text = f"{op.id}({', '.join(_describe(a) for a in operands)}, **{params!r})"
    return Case(f, [operands[i] for i in checked_positions], text)


def _image_case(draw: Draw, op: Op) -> tuple[list[Any], dict[str, Any]]:
    """An image (N, C, H, W), and for conv2d a weight and a bias (or None), with a kernel,
    a stride and a padding that fit; each Tensor checked or constant."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1))) if op.id == "conv2d" else (0, 0)
    kernel = (draw(st.integers(1, h + 2 * padding[0])), draw(st.integers(1, w + 2 * padding[1])))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if op.id != "conv2d":
        # None: windows side by side, the usual pooling (max_pool2d's own primitive)
        return [_tensor(draw, (n, c, h, w), op.domains[0])], {
            "kernel_size": kernel,
            "stride": draw(st.sampled_from([None, stride])),
        }
    out_channels = draw(st.integers(1, 2))
    weight = _tensor(draw, (out_channels, c, *kernel), "real", requires_grad=draw(st.booleans()))
    bias = draw(st.one_of(st.none(), testing.tensors((out_channels,))))
    # the image is data (a first layer) or a layer's input; something is always checked
    x_checked = draw(st.booleans()) or not weight.requires_grad and bias is None
    x = _tensor(draw, (n, c, h, w), op.domains[0], requires_grad=x_checked)
    return [x, weight, bias], {"stride": stride, "padding": padding}


def cases(op: Op) -> st.SearchStrategy[Case]:
    return st.composite(lambda draw: _case(draw, op))()


# ------------------------------------------------------------------------------ tests

IDS = [op.id for op in OPS]


@pytest.mark.parametrize("op", OPS, ids=IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_gradcheck(op: Op, data: st.DataObject) -> None:
    case = data.draw(cases(op))
    assert tl.gradcheck(case.f, *case.inputs, **TOLERANCE)


@pytest.mark.parametrize("op", OPS, ids=IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_gradgradcheck(op: Op, data: st.DataObject) -> None:
    # The non-smooth ops are smooth on their domains, where their second derivative is 0:
    # checked too, as a check that their backward rules can be recorded.
    case = data.draw(cases(op))
    assert tl.gradgradcheck(case.f, *case.inputs, **TOLERANCE)


# ------------------------------------------------------------------- random graphs

# In a graph, an operand comes from earlier ops, so its domain is made rather than drawn:
# a positive operand is mapped into (0.1, 2.1) by a sigmoid, a smooth map; nonzero
# operands and max's ties are kept away from their kinks by rejecting the graph.
GRAPH_MARGIN = 0.05  # |x| of a divisor, or of relu's and abs's input; gap between maxima
GRAPH_BOUND = 1e3  # |value| of every node: beyond it, finite differences lose digits


def _to_positive(x: Tensor) -> Tensor:
    return x.sigmoid() * 2 + 0.1


def _broadcastable(a: Shape, b: Shape) -> bool:
    return all(m == n or 1 in (m, n) for m, n in zip(reversed(a), reversed(b)))


def _matmul_fits(a: Shape, b: Shape) -> bool:
    if not a or not b or a[-1] != b[-2 if len(b) > 1 else 0]:
        return False
    return _broadcastable(a[:-2], b[:-2])


def _operand_choices(op: Op, shapes: list[Shape]) -> list[tuple[int, ...]]:
    """The nodes (by index) that ``op`` can take as its Tensor operands."""
    if op.kind in ("image", "classes"):
        return []  # their operands have shapes of their own: checked alone above
    singles = [(i,) for i, s in enumerate(shapes) if len(s) >= op.min_dims]
    if op.name == "__iter__":
        singles = [(i,) for (i,) in singles if shapes[i][0] > 0]
    if op.kind == "binary":
        return [
            (i, j)
            for i, a in enumerate(shapes)
            for j, b in enumerate(shapes)
            if _broadcastable(a, b)
        ]
    if op.kind == "matmul" and op.name != "__rmatmul__":
        return [
            (i, j) for i, a in enumerate(shapes) for j, b in enumerate(shapes) if _matmul_fits(a, b)
        ]
    if op.name == "__rmatmul__":
        return [(i,) for (i,) in singles if shapes[i]]
    return singles


def _unique_maximum(x: np.ndarray, axis: Any) -> bool:
    """True when, along ``axis``, the largest element leads the next by GRAPH_MARGIN."""
    axes = tuple(range(x.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % x.ndim for a in axes) if x.ndim else ()
    rest = [a for a in range(x.ndim) if a not in axes]
    groups = x.transpose(rest + list(axes)).reshape(math.prod(x.shape[a] for a in rest), -1)
    if groups.shape[1] < 2:
        return True
    top = np.sort(groups, axis=1)[:, -2:]
    return bool(np.all(top[:, 1] - top[:, 0] >= GRAPH_MARGIN))


@dataclass
class Step:
    op: Op
    operands: tuple[Any, ...]  # node indices, or a constant for a reflected op
    params: dict[str, Any]

    def apply(self, nodes: list[Tensor]) -> Tensor:
        args = [nodes[a] if isinstance(a, int) else a for a in self.operands]
        args = [
            _to_positive(x) if d == "positive" and isinstance(x, Tensor) else x
            for x, d in zip(args, self.op.domains)
        ]
        return self.op.fn(*args, **self.params)


@dataclass
class Graph:
    """Inputs and steps; ``f`` computes every node in turn and returns the last."""

    inputs: list[Tensor]
    steps: list[Step]

    def f(self, *inputs: Tensor) -> Tensor:
        nodes = list(inputs)
        for step in self.steps:
            nodes.append(step.apply(nodes))
        return nodes[-1]

    def __repr__(self) -> str:
        lines = [f"v{i} = input{x.shape}" for i, x in enumerate(self.inputs)]
        for k, step in enumerate(self.steps, start=len(self.inputs)):
            args = [f"v{a}" if isinstance(a, int) else _describe(a) for a in step.operands]
            params = "".join(f", {key}={value!r}" for key, value in step.params.items())
            lines.append(f"v{k} = {step.op.id}({', '.join(args)}{params})")
        return "\n".join(lines)


def _graph(draw: Draw, min_steps: int, max_steps: int) -> Graph:
    n_inputs = draw(st.integers(1, 3))
    shapes = draw(testing.broadcastable_shapes(n_inputs, max_side=MAX_SIDE))
    inputs = [_tensor(draw, shape, "nonzero") for shape in shapes]
    nodes = [x.detach() for x in inputs]  # the values, computed as the graph is drawn
    steps = []
    # The structure comes from a Random seeded by hypothesis: drawn by hypothesis choice by
    # choice, most graphs would repeat the first op of the table (its simplest choice).
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    for _ in range(rng.randint(min_steps, max_steps)):
        node_shapes = [x.shape for x in nodes]
        usable = [op for op in OPS if _operand_choices(op, node_shapes)]
        op = rng.choice(usable)
        choices = _operand_choices(op, node_shapes)
        # Later nodes are likelier, so that graphs grow deep; any node may be used again.
        operands: tuple[Any, ...] = max(rng.choice(choices), rng.choice(choices))
        if op.kind == "reflected":
            constant = draw(testing.arrays((), **DOMAINS[op.domains[0]])).item()
            operands = (constant, *operands)
        elif op.name == "__rmatmul__":
            (i,) = operands
            rows = nodes[i].shape[-2] if nodes[i].ndim > 1 else nodes[i].shape[0]
            left_shape = draw(st.sampled_from([(rows,), (2, rows)]))
            operands = (draw(testing.arrays(left_shape)), i)
        first = next(a for a in operands if isinstance(a, int))
        params = op.params(draw, nodes[first].shape) if op.params else {}
        step = Step(op, operands, params)
        for a, domain in zip(step.operands, op.domains):
            if isinstance(a, int) and domain == "nonzero":
                assume(np.all(np.abs(nodes[a].data) >= GRAPH_MARGIN))
            if isinstance(a, int) and domain == "distinct":
                assume(_unique_maximum(nodes[a].data, params.get("axis")))
            if isinstance(a, int) and domain == "small":  # kept apart from the first operand
                assume(np.all(np.abs(nodes[first].data - nodes[a].data) >= GRAPH_MARGIN))
            if isinstance(a, int) and domain == "spread":  # (of two elements or more)
                x = nodes[a].data
                if math.prod(x.shape[i] for i in _axes_of(params["axis"], x.ndim)) >= 2:
                    assume(np.all(x.var(axis=params["axis"]) >= GRAPH_MARGIN**2))
        with tl.no_grad():
            value = step.apply(nodes)
        assume(value.size > 0 and np.all(np.abs(value.data) <= GRAPH_BOUND))
        nodes.append(value)
        steps.append(step)
    return Graph(inputs, steps)


def graphs(min_steps: int, max_steps: int) -> st.SearchStrategy[Graph]:
    return st.composite(lambda draw: _graph(draw, min_steps, max_steps))()


# Graphs that put a kink within reach are rejected (assume): about one in five.
GRAPH_SETTINGS = settings(
    PROPERTY_SETTINGS, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow]
)


@GRAPH_SETTINGS
@given(graph=graphs(3, 8))
def test_random_graphs_gradcheck(graph: Graph) -> None:
    assert tl.gradcheck(graph.f, *graph.inputs, **TOLERANCE)


@GRAPH_SETTINGS
@given(graph=graphs(2, 5))
def test_random_graphs_gradgradcheck(graph: Graph) -> None:
    assert tl.gradgradcheck(graph.f, *graph.inputs, **TOLERANCE)
