"""Forward mode against finite differences and against reverse mode, for every op and for
random graphs, by hypothesis.

Every row of the op table of test_properties.py (each public differentiable method of
Tensor) and every primitive of ``ops`` (``PRIMITIVES``, which must list them all) is checked:

- the jvp against central differences (``tl.gradcheck(check_forward_ad=True)``);
- forward mode against reverse mode, ``u . (J v) == (J^T u) . v``, in float64 and float32,
  and ``jacfwd == jacrev``;

and random graphs built from the table the same way, plus their Hessians, symmetric and
the same from all four orderings of the two modes.

NaN is kept out of the comparisons between the modes (the domains keep every value and
derivative finite): NaN and infinities spread differently in each mode, so a comparison
would fail where both are right. In ``x * y`` with an infinite ``y``, forward mode along
``x_t = 0`` forms ``0 * inf = nan``, while reverse mode never multiplies by ``x_t``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_properties import (
    GRAPH_SETTINGS,
    OPS,
    TOLERANCE,
    Case,
    Graph,
    Op,
    cases,
    graphs,
)

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, ops, testing
from tinygrad_lite.function import Function

# Each test of one op runs half the hypothesis profile's number of examples (20 with
# "dev", 30 with "ci"): there are three per op, and the graphs combine the ops again.
FORWARD_SETTINGS = settings(
    max_examples=max(settings.default.max_examples // 2, 10),
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
# How far the two modes may differ, relative to the size of the tangents and gradients
# they form (see check_modes_agree): a few roundings per op in float64; float32 has 7 digits.
AGREEMENT = {np.float64: 1e-10, np.float32: 1e-4}
SUBNORMAL = 64  # times the smallest normal number: the absolute floor of the tolerance
IDS = [op.id for op in OPS]
# In float32 every op but those with a constant on the left (2 - t, a @ t): the table draws
# that constant as a float64 array nearly always, which makes the result float64; and but
# astype, whose result has the dtype it names.
MODE_CASES = [
    pytest.param(op, dtype, id=f"{op.id}-{dtype.__name__}")
    for dtype in (np.float64, np.float32)
    for op in OPS
    if not (
        dtype is np.float32 and (op.kind == "reflected" or op.name in ("__rmatmul__", "astype"))
    )
]


# --------------------------------------------------------------------- the checks


def _as_dtype(inputs: list[Tensor], dtype: Any) -> list[Tensor]:
    return [Tensor(x.data, requires_grad=True, dtype=dtype) for x in inputs]


def _jacobians(f: Any, inputs: list[Tensor]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """f's Jacobian with respect to each input, (output size, input size), by each mode."""
    argnums = tuple(range(len(inputs)))
    forward = tl.jacfwd(f, argnums)(*inputs)
    reverse = tl.jacrev(f, argnums)(*inputs)
    size = f(*inputs).size

    def flat(blocks: tuple[Tensor, ...]) -> list[np.ndarray]:
        return [b.numpy().reshape(size, x.size) for b, x in zip(blocks, inputs)]

    return flat(forward), flat(reverse)


def _largest(records: Any, phase: str) -> float:
    """The largest magnitude among the tangents (phase "tangent") or the gradients (phase
    "backward") that a trace with values recorded."""
    found = [0.0]
    for r in records:
        if r.phase == phase:
            for name, array in r.values.items():
                if (
                    name.endswith("_t")
                    or name == "grad"
                    or (phase == "backward" and name[0] == "d")
                ):
                    found.append(float(np.max(np.abs(array), initial=0.0)))
    return max(found)


def check_modes_agree(f: Any, inputs: list[Tensor], dtype: Any, data: st.DataObject) -> None:
    """u . (J v) by forward mode against (J^T u) . v by reverse mode, in ``dtype``; and the
    Jacobians by jacfwd and jacrev, in float64."""
    xs = _as_dtype(inputs, dtype)
    out = f(*xs)
    assume(out.dtype == dtype)  # a float64 constant in f makes the result float64
    v = data.draw(testing.tangents(*xs), label="v")
    (u,) = data.draw(testing.tangents(out), label="u")
    _, jv = tl.jvp(f, tuple(xs), v)
    _, vjp_fn = tl.vjp(f, *xs)
    jtu = vjp_fn(u)
    assert jv.dtype == dtype and all(g.dtype == dtype for g in jtu)
    forward = float(np.sum(u.numpy().astype(np.float64) * jv.numpy()))
    reverse = sum(float(np.sum(g.numpy().astype(np.float64) * t.numpy())) for g, t in zip(jtu, v))
    assert np.isfinite(forward) and np.isfinite(reverse)
    # Each mode rounds relative to the values it forms on the way: the tangents forward,
    # the gradients backward, which can be much larger than J itself (in (y * p) / p, the
    # two paths from p cancel). Their sizes, in float64, from a trace of each mode:
    xs64, v64 = _as_dtype(inputs, np.float64), [Tensor(t.data, dtype=np.float64) for t in v]
    with tl.trace(values=True) as forward_trace:
        tl.jvp(f, tuple(xs64), tuple(v64))
    with tl.trace(values=True) as reverse_trace:
        tl.vjp(f, *xs64)[1](Tensor(u.data, dtype=np.float64))
    sizes = [
        np.sum(np.abs(u.numpy())) * _largest(forward_trace, "tangent"),
        sum(np.sum(np.abs(t.numpy())) for t in v) * _largest(reverse_trace, "backward"),
    ]
    blocks, reverse_blocks = _jacobians(f, xs64)
    for a, b in zip(blocks, reverse_blocks):
        size = max(float(np.max(np.abs(a), initial=0.0)), 1.0)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * size, err_msg="jacfwd, jacrev")
    # Below the normal range (subnormal directions), rounding errors are absolute.
    tolerance = AGREEMENT[dtype] * float(sum(sizes)) + SUBNORMAL * float(np.finfo(dtype).tiny)
    assert abs(forward - reverse) <= tolerance, (forward, reverse, sizes)


# ------------------------------------------------------------- every op of the table


@pytest.mark.parametrize("op", OPS, ids=IDS)
@FORWARD_SETTINGS
@given(data=st.data())
def test_jvp_against_finite_differences(op: Op, data: st.DataObject) -> None:
    case = data.draw(cases(op))
    assert tl.gradcheck(case.f, *case.inputs, check_forward_ad=True, **TOLERANCE)


@pytest.mark.parametrize(("op", "dtype"), MODE_CASES)
@FORWARD_SETTINGS
@given(data=st.data())
def test_forward_and_reverse_mode_agree(op: Op, dtype: Any, data: st.DataObject) -> None:
    case = data.draw(cases(op))
    check_modes_agree(case.f, case.inputs, dtype, data)


# --------------------------------------------------------------- every primitive


def _table_case(op_id: str) -> st.SearchStrategy[Case]:
    (op,) = [op for op in OPS if op.id == op_id]
    return cases(op)


@st.composite
def _affine(draw: Any) -> Case:
    batch, fan_in, fan_out = (draw(st.integers(1, 3)) for _ in range(3))
    shapes = [(batch, fan_in), (fan_in, fan_out), (fan_out,)]
    inputs = [draw(testing.tensors(s)) for s in shapes]
    return Case(lambda x, w, b: ops.Affine.apply(x, w, b), inputs, f"affine{shapes}")


@st.composite
def _sse_loss(draw: Any) -> Case:
    shape = draw(testing.shapes(max_side=3))
    inputs = [draw(testing.tensors(shape)) for _ in range(2)]
    return Case(nn.sse_loss, inputs, f"sse_loss{shape}")


@st.composite
def _index_add(draw: Any) -> Case:
    shape = draw(testing.shapes(min_dims=1, max_side=3))
    index = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
    picked = np.zeros(shape)[index].shape
    x = draw(testing.tensors(picked))

    def f(x: Tensor) -> Tensor:
        return ops.IndexAdd.apply(x, index=np.array(index), shape=shape)

    return Case(f, [x], f"index_add({picked} at {index} into {shape})")


@st.composite
def _cross_entropy_probabilities(draw: Any) -> Case:
    # The table's cases give class indices; here the target is probabilities, a Tensor too.
    n, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    x = draw(testing.tensors((n, classes)))
    y = draw(testing.tensors((n, classes), domain="unit"))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))

    def f(x: Tensor, y: Tensor) -> Tensor:
        return nn.cross_entropy(x, y, reduction=reduction)

    return Case(f, [x, y], f"cross_entropy({n}x{classes}, probabilities, {reduction})")


@st.composite
def _masked(draw: Any) -> Case:
    shape = draw(testing.shapes(max_side=3))
    x = draw(testing.tensors(shape))
    mask = draw(testing.arrays(shape)) > 0  # True: masked out, 0

    def f(x: Tensor) -> Tensor:
        return ops.Masked.apply(x, mask=mask)

    return Case(f, [x], f"masked({shape}, {mask.tolist()})")


@st.composite
def _col2im(draw: Any) -> Case:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    kernel = (draw(st.integers(1, h + 2 * padding[0])), draw(st.integers(1, w + 2 * padding[1])))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    rows = n * ((h + 2 * padding[0] - kernel[0]) // stride[0] + 1)
    rows *= (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    x = draw(testing.tensors((rows, c * kernel[0] * kernel[1])))
    params = {"shape": (n, c, h, w), "kernel": kernel, "stride": stride, "padding": padding}

    def f(x: Tensor) -> Tensor:
        return ops.Col2im.apply(x, **params)

    return Case(f, [x], f"col2im({x.shape}, {params})")


@st.composite
def _max_pool(draw: Any) -> Case:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    shape = (n, c, draw(st.integers(1, 2)) * kernel[0], draw(st.integers(1, 2)) * kernel[1])
    # Distinct values half a unit apart: no tie, whose gradient finite differences miss.
    order = draw(st.permutations(range(math.prod(shape))))
    x = Tensor(np.reshape(order, shape) * 0.5 + draw(st.floats(-1, 1)), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        return ops.MaxPool.apply(x, kernel=kernel)

    return Case(f, [x], f"max_pool({shape}, {kernel})")


# Every primitive of ops, with the cases that exercise it: a row of the op table, or cases
# of its own for those no Tensor method applies alone.
PRIMITIVES: dict[str, st.SearchStrategy[Case]] = {
    "Abs": _table_case("abs"),
    "Add": _table_case("add"),
    "Affine": _affine(),
    "Cast": _table_case("astype"),
    "Masked": _masked(),
    "Sqrt": _table_case("sqrt"),
    "Cat": st.one_of(_table_case("cat"), _table_case("stack")),
    "Col2im": _col2im(),
    "CrossEntropy": st.one_of(_table_case("cross_entropy"), _cross_entropy_probabilities()),
    "Im2col": st.one_of(_table_case("conv2d"), _table_case("avg_pool2d")),
    "LogSoftmax": _table_case("log_softmax"),
    "Maximum": st.one_of(_table_case("maximum"), _table_case("minimum")),
    "Softmax": _table_case("softmax"),
    "Where": st.one_of(_table_case("where"), _table_case("clip")),
    "Div": _table_case("div"),
    "Exp": _table_case("exp"),
    "Expand": _table_case("expand"),
    "Index": _table_case("x[i]"),
    "IndexAdd": _index_add(),
    "Log": _table_case("log"),
    "Matmul": _table_case("matmul"),
    "Max": _table_case("max"),
    "MaxPool": st.one_of(_max_pool(), _table_case("max_pool2d")),
    "Mul": _table_case("mul"),
    "Neg": _table_case("neg"),
    "Permute": _table_case("permute"),
    "Pow": _table_case("pow"),
    "Relu": _table_case("relu"),
    "Reshape": _table_case("reshape"),
    "SSELoss": _sse_loss(),
    "Sigmoid": _table_case("sigmoid"),
    "Sub": _table_case("sub"),
    "Sum": _table_case("sum"),
    "Tanh": _table_case("tanh"),
}


def _primitives() -> dict[str, type[Function]]:
    found = {name: getattr(ops, name) for name in ops.__all__}
    return {name: f for name, f in found.items() if isinstance(f, type) and issubclass(f, Function)}


def test_every_primitive_has_a_jvp_rule_and_its_formula() -> None:
    for name, cls in _primitives().items():
        assert cls.jvp is not Function.jvp, f"ops.{name} has no jvp rule"
        assert tl.tools.labels.tangent_rule(cls()).startswith("out_t = "), (
            f"ops.{name}: its docstring does not state its jvp rule (a line 'out_t = ...')"
        )


def test_every_primitive_has_cases_here() -> None:
    missing = set(_primitives()) - set(PRIMITIVES)
    assert not missing, f"add cases for {sorted(missing)} to PRIMITIVES"
    assert not set(PRIMITIVES) - set(_primitives())


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
@FORWARD_SETTINGS
@given(data=st.data())
def test_every_primitive_jvp(name: str, data: st.DataObject) -> None:
    case = data.draw(PRIMITIVES[name])
    assert tl.gradcheck(case.f, *case.inputs, check_forward_ad=True, **TOLERANCE)
    check_modes_agree(case.f, case.inputs, np.float64, data)


# ------------------------------------------------------------------- random graphs


@settings(GRAPH_SETTINGS, max_examples=settings.default.max_examples)
@given(graph=graphs(3, 8))
def test_random_graphs_jvp_against_finite_differences(graph: Graph) -> None:
    assert tl.gradcheck(graph.f, *graph.inputs, check_forward_ad=True, **TOLERANCE)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(GRAPH_SETTINGS, max_examples=settings.default.max_examples)
@given(graph=graphs(3, 8), data=st.data())
def test_random_graphs_modes_agree(graph: Graph, dtype: Any, data: st.DataObject) -> None:
    check_modes_agree(graph.f, graph.inputs, dtype, data)


ORDERINGS = {
    "hessian": tl.hessian,
    "forward over reverse": lambda f, a: tl.jacfwd(tl.jacrev(f, a), a),
    "reverse over reverse": lambda f, a: tl.jacrev(tl.jacrev(f, a), a),
    "forward over forward": lambda f, a: tl.jacfwd(tl.jacfwd(f, a), a),
    "reverse over forward": lambda f, a: tl.jacrev(tl.jacfwd(f, a), a),
}


@settings(GRAPH_SETTINGS, max_examples=max(settings.default.max_examples // 2, 10))
@given(graph=graphs(2, 5), data=st.data())
def test_random_graphs_hessians_are_symmetric_and_agree(graph: Graph, data: st.DataObject) -> None:
    sizes = [x.size for x in graph.inputs]
    assume(sum(sizes) <= 12)  # Hessians of forward over forward take one pass per pair
    weights = data.draw(testing.arrays(graph.f(*graph.inputs).shape), label="weights")

    def f(*xs: Tensor) -> Tensor:
        return (graph.f(*xs) * weights).sum()

    argnums = tuple(range(len(graph.inputs)))
    found = {name: h(f, argnums)(*graph.inputs) for name, h in ORDERINGS.items()}
    reference = found["hessian"]
    scale = max(
        max(float(np.max(np.abs(b.numpy()), initial=0.0)) for b in row) for row in reference
    )
    for name, h in found.items():
        for a, (row, expected) in enumerate(zip(h, reference)):
            for b, (block, block_expected) in enumerate(zip(row, expected)):
                np.testing.assert_allclose(
                    block.numpy(),
                    block_expected.numpy(),
                    rtol=1e-9,
                    atol=1e-12 * scale,
                    err_msg=f"{name}, block ({a}, {b})",
                )
                transposed = reference[b][a].numpy().reshape(sizes[b], sizes[a]).T
                np.testing.assert_allclose(
                    block.numpy().reshape(sizes[a], sizes[b]),
                    transposed,
                    rtol=1e-9,
                    atol=1e-12 * scale,
                    err_msg=f"{name} is not symmetric",
                )
