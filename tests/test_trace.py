"""tl.trace(): every forward op and backward step, in order, checkable against the seed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.tools.trace import Record, Trace

X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
Y = np.array([[0, 1, 1, 0]], dtype=float).T
W = 2 * np.random.RandomState(1).random((3, 1)) - 1  # the seed's first weights


def _neuron_step(values: bool) -> tuple[Trace, tl.Tensor]:
    """One step of the seed's single neuron under a trace: loss, backward."""
    xt, yt = tl.Tensor(X), tl.Tensor(Y)
    w = tl.Tensor(W, requires_grad=True)
    with tl.trace(values=values, names={"X": xt, "y": yt, "w": w}) as tr:
        loss = 0.5 * ((yt - (xt @ w).sigmoid()) ** 2).sum()
        loss.backward()
    return tr, w


def test_every_op_forward_then_every_rule_backward_in_order() -> None:
    tr, _ = _neuron_step(values=False)
    assert [(r.phase, r.op) for r in tr] == [
        ("forward", "matmul"),
        ("forward", "sigmoid"),
        ("forward", "sub"),
        ("forward", "pow"),
        ("forward", "sum"),
        ("forward", "mul"),
        ("backward", "mul"),
        ("backward", "sum"),
        ("backward", "pow"),
        ("backward", "sub"),
        ("backward", "sigmoid"),
        ("backward", "matmul"),
    ]
    assert [r.step for r in tr] == list(range(12)) and len(tr) == 12
    matmul = tr[0]
    assert matmul.inputs == ("X", "w") and matmul.input_shapes == ((4, 3), (3, 1))
    assert matmul.output == ("t0",) and matmul.output_shape == ((4, 1),)
    assert tr[3].inputs == ("t2", "2")  # a scalar constant is named by its value
    sigmoid_back = tr[10]
    assert sigmoid_back.grad == "t1" and sigmoid_back.grad_shape == (4, 1)
    assert sigmoid_back.output == ("t0",) and sigmoid_back.forward_step == 1
    assert sigmoid_back.rule == "dx = grad * (out*(1-out))"
    # A gradient that the engine drops (for the constant y of y - out) is not shown.
    assert tr[9].output == ("t1",) and tr[9].rule == "dy = -grad"
    assert tr[11].output == ("w",) and tr[11].rule == "dy = x.mT @ grad"


def test_values_follow_the_seeds_hand_written_deltas() -> None:
    tr, w = _neuron_step(values=True)
    by_op = {(r.phase, r.op): r.values for r in tr}
    out = by_op["forward", "sigmoid"]["out"]
    # The seed: error = y - output; slope = output*(1-output); delta = error*slope.
    delta = (Y - out) * (out * (1 - out))
    sigmoid = by_op["backward", "sigmoid"]
    assert set(sigmoid) == {"grad", "out", "dx"}  # what the rule's formula uses
    np.testing.assert_array_equal(sigmoid["dx"], sigmoid["grad"] * (sigmoid["out"] * (1 - out)))
    # delta is -dL/dz: the trace shows the very numbers, sign aside, bit for bit.
    np.testing.assert_array_equal(sigmoid["dx"], -delta)
    matmul = by_op["backward", "matmul"]
    np.testing.assert_array_equal(matmul["dy"], matmul["x"].T @ matmul["grad"])
    np.testing.assert_array_equal(matmul["dy"], -(X.T @ delta))  # the seed's dot(X.T, delta)
    np.testing.assert_array_equal(matmul["dy"], w.grad.data)


def test_the_table_reads_line_by_line() -> None:
    tr, _ = _neuron_step(values=False)
    lines = str(tr).splitlines()
    assert lines[0].split() == ["step", "phase", "op", "inputs", "output", "rule"]
    assert len(lines) == 13 and tr.table() == str(tr)
    squeezed = [" ".join(line.split()) for line in lines]
    assert squeezed[1] == "0 forward matmul X (4, 3), w (3, 1) t0 (4, 1) out = x @ y"
    assert squeezed[11] == "10 backward sigmoid grad t1 (4, 1) t0 (4, 1) dx = grad * (out*(1-out))"
    # The columns line up: every row's op starts where the header's does.
    column = lines[0].index("op")
    assert all(line[column - 2 : column] == "  " for line in lines)
    valued, _ = _neuron_step(values=True)
    text = str(valued)
    assert "      out = [[" in text and "      dx = [[" in text
    assert repr(valued) == "<Trace of 12 records>"


def test_values_are_copies_taken_when_the_op_ran() -> None:
    a = tl.Tensor([1.0, 2.0])
    with tl.trace(values=True) as tr:
        b = a * 3
    with tl.no_grad():
        a.add_(10.0)
    np.testing.assert_array_equal(tr[0].values["x"], [1.0, 2.0])
    np.testing.assert_array_equal(tr[0].values["out"], b.data)


def test_only_this_thread_and_only_inside_the_block() -> None:
    a = tl.Tensor([1.0, 2.0], requires_grad=True)
    before = (a * 2).sum()
    elsewhere: list[tl.Tensor] = []
    with tl.trace() as tr:
        thread = threading.Thread(target=lambda: elsewhere.append(a.exp()))
        thread.start()
        thread.join()
        before.backward()  # built before the trace: its steps are traced, not linked
    (a * 3).sum()
    assert elsewhere and [(r.phase, r.op) for r in tr] == [("backward", "sum"), ("backward", "mul")]
    assert tr[0].forward_step is None and tr[0].grad == "(untraced)"
    assert isinstance(tr[0], Record)


def test_create_graph_gradients_are_recorded_too() -> None:
    x = tl.Tensor(2.0, requires_grad=True)
    with tl.trace(values=True) as tr:
        dx = tl.grad(lambda t: t**3)(x)
    assert dx.item() == 12.0
    pow_back = next(r for r in tr if r.phase == "backward")
    assert pow_back.op == "pow" and pow_back.values["dx"] == 12.0


def test_a_trace_records_one_block_and_checks_its_arguments() -> None:
    tr = tl.trace()
    with tr, pytest.raises(RuntimeError, match="already active"), tr:
        pass
    with pytest.raises(TypeError, match="values must be True or False"):
        tl.trace(values="yes")  # type: ignore[arg-type]


def test_names_follow_each_ops_rule() -> None:
    # sse_loss is one op whose rule names its inputs pred and target, not x and y.
    pred = tl.Tensor([[0.25], [0.75]], requires_grad=True)
    target = tl.Tensor([[0.0], [1.0]])
    with tl.trace(values=True) as tr:
        tl.nn.sse_loss(pred, target).backward()
    forward, backward = tr
    assert set(forward.values) == {"pred", "target", "out"}
    assert backward.rule == "dpred = -grad * (target - pred)"
    assert list(backward.values) == ["grad", "pred", "target", "dpred"]
    np.testing.assert_array_equal(backward.values["dpred"], -(target.data - pred.data))
    dot = tl.viz.to_dot(tl.nn.sse_loss(pred, target))
    assert '[label="pred"];' in dot and '[label="target"];' in dot


def test_a_rule_written_elementwise_is_shown_too() -> None:
    # Im2col states its rule for each element, out[(n, i, j), (c, di, dj)] = ...: the trace
    # shows it as it shows out = ... (it was left blank).
    image = tl.Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    with tl.trace() as tr:
        tl.nn.max_pool2d(image, 2, stride=1).sum().backward()  # overlapping: im2col, max
    im2col = [r for r in tr if r.op == "im2col"]
    assert [r.phase for r in im2col] == ["forward", "backward"]
    assert im2col[0].rule.startswith("out[(n, i, j), (c, di, dj)] = xp[n, c, ")
    assert im2col[1].rule == "dx = col2im(grad)"


def test_a_long_list_of_tensors_is_shortened_in_the_table() -> None:
    parts = [tl.Tensor([float(i)], requires_grad=True) for i in range(25)]
    with tl.trace(names={f"p{i}": p for i, p in enumerate(parts)}) as tr:
        tl.cat(parts).sum().backward()
    table = tr.table()
    assert "p0 (1,), p1 (1,), ..., p24 (1,) (25 tensors)" in table  # forward and backward
    assert table.count("(25 tensors)") == 2
    assert tr[0].inputs == tuple(f"p{i}" for i in range(25))  # the records keep them all
    with tl.trace() as short:
        tl.cat(parts[:4]).sum()
    assert "t0 (1,), t1 (1,), t2 (1,), t3 (1,)" in short.table()
