"""docs/internals.md shows the textbook backward pass (a topological sort, then a reversed
loop) beside the engine's walk (a heap by sequence number). Both blocks are real: the
engine's is its source, and the textbook's gives the same gradients on any graph."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_lite import Tensor, engine, nn
from tinygrad_lite.hooks import Observer

ROOT = Path(__file__).resolve().parent.parent
INTERNALS = ROOT / "docs" / "internals.md"


def _block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```python\n(.+?)```", INTERNALS.read_text(), re.S)
    assert match, f"docs/internals.md has no python block after <!-- {marker} -->"
    return match.group(1)


def _textbook() -> Any:
    namespace: dict[str, Any] = {"engine": engine}
    exec(_block("the textbook walk"), namespace)
    return namespace["textbook_gradients"]


def test_the_engines_walk_is_shown_as_it_is() -> None:
    assert _block("the engine's walk") == inspect.getsource(engine._gradients)


# A graph: leaves, then ops that each take earlier tensors (so tensors are reused, and
# paths meet, as in a diamond), then a sum of the last one.
UNARY = ("sigmoid", "tanh", "exp", "neg", "relu", "sum0", "T")
BINARY = ("add", "sub", "mul", "matmul")


@st.composite
def graphs(draw: Any) -> tuple[list[np.ndarray], list[tuple[Any, ...]]]:
    leaves = [
        draw(st.lists(st.floats(-2, 2), min_size=9, max_size=9))
        for _ in range(draw(st.integers(1, 3)))
    ]
    steps = []
    for n in range(draw(st.integers(1, 12))):
        count = len(leaves) + n
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(UNARY)), draw(st.integers(0, count - 1))))
        else:
            a, b = draw(st.integers(0, count - 1)), draw(st.integers(0, count - 1))
            steps.append((draw(st.sampled_from(BINARY)), a, b))
    return [np.array(v).reshape(3, 3) for v in leaves], steps


def _build(arrays: list[np.ndarray], steps: list[tuple[Any, ...]]) -> tuple[list[Tensor], Tensor]:
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    pool = list(leaves)
    for op, *args in steps:
        x = pool[args[0]]
        if op == "sum0":
            out = x.sum(axis=0, keepdim=True)  # (1, 3), broadcast back by the next op
        elif op == "T":
            out = x.T
        elif op in UNARY:
            out = getattr(x, op)()
        else:
            y = pool[args[1]]
            if op == "matmul" and x.shape[-1] != y.shape[0]:
                op = "mul"  # (a sum0 of (1, 3) after a (3, 3)): shapes that broadcast instead
            out = x @ y if op == "matmul" else getattr(x, op)(y)
        pool.append(out)
    return leaves, (pool[-1] * pool[-1]).sum()


@given(graphs())
def test_the_textbook_walk_and_the_engine_give_the_same_gradients(graph: Any) -> None:
    textbook_gradients = _textbook()
    leaves, root = _build(*graph)
    seed = np.array(1.0)
    with _Largest() as largest:
        ours = dict(engine.backward(root, seed, retain_graph=True, create_graph=False))
    # exp of exp of a sum can overflow; the comparison is of finite gradients. (The engine
    # runs the rules with numpy's warnings off, the textbook loop does too here.)
    assume(all(np.all(np.isfinite(g)) for g in ours.values()))
    with np.errstate(all="ignore"):
        expected = textbook_gradients(root, seed)
    for leaf in leaves:
        assert (leaf in expected) == (leaf in ours)
        if leaf in ours:
            # The same terms, added up in another order when a tensor has several users:
            # each sum rounds relative to its terms, which can be much larger than a result
            # they cancel to.
            np.testing.assert_allclose(
                ours[leaf], expected[leaf], rtol=1e-12, atol=1e-13 * largest.size
            )


class _Largest(Observer):
    """The largest magnitude among the gradients a backward pass forms on its way."""

    size = 0.0

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        for g in (grad, *input_grads):
            if g is not None:
                self.size = max(self.size, float(np.max(np.abs(g), initial=0.0)))


def test_on_the_seed_network_they_agree_bit_for_bit() -> None:
    # One user per tensor: each gradient is one term, so the order cannot matter.
    rng = np.random.RandomState(1)
    model = nn.Sequential(nn.Linear.from_weights(2 * rng.random((3, 1)) - 1), nn.Sigmoid())
    inputs = Tensor([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
    loss = nn.sse_loss(model(inputs), [[0], [1], [1], [0]])
    expected = _textbook()(loss, np.array(1.0))[model[0].weight]
    (ours,) = [
        g for leaf, g in engine.backward(loss, np.array(1.0), retain_graph=True, create_graph=False)
    ]
    assert np.array_equal(ours, expected)


def test_the_comparison_would_see_a_wrong_walk() -> None:
    # A walk that visits in the order the graph was built (not reversed) runs rules before
    # their gradients are complete, and its gradients differ.
    namespace: dict[str, Any] = {"engine": engine}
    exec(
        _block("the textbook walk").replace("reversed(engine.graph(root))", "engine.graph(root)"),
        namespace,
    )
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    root = (y * y + y).sum()
    wrong = namespace["textbook_gradients"](root, np.array(1.0))
    ours = dict(engine.backward(root, np.array(1.0), retain_graph=True, create_graph=False))
    assert x not in wrong or not np.allclose(wrong[x], ours[x])
