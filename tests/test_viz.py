"""tl.viz: DOT text of the graph behind a tensor, and rendering it with Graphviz."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.tools.viz import GraphvizError, render, to_dot

HAS_DOT = shutil.which("dot") is not None


def _neuron() -> tuple[tl.Tensor, tl.Tensor, tl.Tensor, tl.Tensor]:
    """The seed's single neuron: loss = 0.5 * sum((y - sigmoid(X @ w))**2)."""
    x = tl.Tensor([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
    y = tl.Tensor([[0, 1, 1, 0]]).T
    w = tl.Tensor([[0.1], [-0.2], [0.3]], requires_grad=True)
    loss = 0.5 * ((y - (x @ w).sigmoid()) ** 2).sum()
    return x, y, w, loss


def _nodes(dot: str) -> dict[str, str]:
    """{node id: label} of every node statement (inside a box too)."""
    return dict(re.findall(r'^ +(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, re.MULTILINE))


def _edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (\w+) -> (\w+)", dot, re.MULTILINE)


def test_ops_tensors_and_edges_follow_the_computation() -> None:
    x, y, w, loss = _neuron()
    dot = to_dot(loss, names={"X": x, "y": y, "w": w})
    nodes = _nodes(dot)
    ops = [label for node, label in nodes.items() if node.startswith("f")]
    assert ops == ["matmul", "sigmoid", "sub", "pow", "sum", "mul"]
    # Ids follow discovery from the output, inputs in order: the 0.5 of 0.5 * sum(...) first.
    assert nodes["t0"] == "const\\n() = 0.5"
    labels = list(nodes.values())
    assert "X\\n(4, 3)" in labels and "w\\n(3, 1)" in labels and "y\\n(4, 1)" in labels
    # Each op has an edge from every input and one to its output.
    edges = _edges(dot)
    for node in nodes:
        if node.startswith("f"):
            assert (node, "t" + node[1:]) in edges
            assert any(dst == node for _, dst in edges)
    # sub's two inputs are told apart by the rule's names.
    assert re.search(r'-> f\d+ \[label="x"\]', dot) and re.search(r'-> f\d+ \[label="y"\]', dot)
    assert dot.startswith("digraph tinygrad_lite {\n") and dot.endswith("}\n")


def test_parameters_constants_and_the_output_are_marked() -> None:
    x, y, w, loss = _neuron()
    dot = to_dot(loss)
    param_lines = [line for line in dot.splitlines() if "#cfe2ff" in line]
    assert len(param_lines) == 1 and 'label="param\\n(3, 1)"' in param_lines[0]
    const_labels = re.findall(r'label="const\\n([^"]*)"', dot)
    assert "(4, 3)" in const_labels  # X
    assert "() = 2" in const_labels and "() = 0.5" in const_labels  # the exponent and the 0.5
    output = [line for line in dot.splitlines() if "penwidth=2" in line]
    assert len(output) == 1 and f"() = {loss.item():.4g}" in output[0]


def test_gradients_show_once_known() -> None:
    x, y, w, loss = _neuron()
    assert "\\ngrad" not in to_dot(loss)
    loss.backward(retain_graph=True)
    dot = to_dot(loss, names={"w": w})
    expected = ", ".join(f"{g:.4g}" for g in w.grad.data.ravel())
    assert f'label="w\\n(3, 1)\\ngrad = {expected}"' in dot
    big = tl.Tensor(np.arange(6.0), requires_grad=True)
    out = (big * big).sum()
    out.backward(retain_graph=True)
    norm = np.linalg.norm(2 * np.arange(6.0))
    assert f"grad norm {norm:.4g}" in to_dot(out)


def test_after_backward_without_retain_graph_it_says_what_to_do() -> None:
    _, _, _, loss = _neuron()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        to_dot(loss)


def test_same_computation_same_text_and_float32_is_shown() -> None:
    assert to_dot(_neuron()[3]) == to_dot(_neuron()[3])
    x = tl.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert "(3,) float32" in to_dot((x * 2).sum())


def test_a_leaf_alone_and_a_long_chain() -> None:
    leaf = tl.Tensor([1.0, 2.0], requires_grad=True)
    assert _nodes(to_dot(leaf)) == {"t0": "param\\n(2,)"}
    x = tl.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit
        y = y * 1.0
    dot = to_dot(y)
    assert len(_edges(dot)) == 3 * 3000  # x and y into each mul, one out


def test_names_from_pairs_modules_and_state_dicts_and_escaping() -> None:
    x, y, w, loss = _neuron()

    class Model:
        def named_parameters(self) -> list[tuple[str, tl.Tensor]]:
            return [("layer.weight", w)]

    assert 'label="layer.weight\\n(3, 1)"' in to_dot(loss, names=Model())
    assert 'label="w0\\n(3, 1)"' in to_dot(loss, names=[("w0", w)])
    assert 'label="w1\\n(3, 1)"' in to_dot(loss, names={"w1": w.data})  # arrays match too
    assert 'label="say \\"hi\\"\\\\\\n(3, 1)"' in to_dot(loss, names={'say "hi"\\': w})
    for bad in ("w", w, 3):
        with pytest.raises(TypeError, match="accepted: a mapping of name to tensor"):
            to_dot(loss, names=bad)


def test_render_writes_dot_text(tmp_path: Path) -> None:
    dot = to_dot(_neuron()[3])
    path = render(dot, tmp_path / "graph.dot")
    assert path.read_text() == dot
    assert [p.name for p in tmp_path.iterdir()] == ["graph.dot"]  # no temporary left behind
    with pytest.raises(ValueError, match=r"accepted: \.dot, \.gv, \.svg, \.png, \.pdf"):
        render(dot, tmp_path / "graph.jpg")
    with pytest.raises(TypeError, match="DOT text"):
        render(_neuron()[3], tmp_path / "graph.dot")  # type: ignore[arg-type]


def test_without_graphviz_rendering_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(GraphvizError, match="apt-get install graphviz") as caught:
        render(to_dot(_neuron()[3]), tmp_path / "graph.svg")
    assert isinstance(caught.value, RuntimeError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_graphviz_draws_the_text(tmp_path: Path) -> None:
    x, y, w, loss = _neuron()
    loss.backward(retain_graph=True)
    dot = to_dot(loss, names={"X": x, "y": y, 'w "weights"': w})
    check = subprocess.run(["dot", "-Tcanon"], input=dot, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    svg = render(dot, tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "sigmoid" in svg
    png = render(dot, tmp_path / "graph.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    with pytest.raises(GraphvizError, match="could not draw"):
        render("digraph { this is not dot", tmp_path / "bad.svg")
    assert not (tmp_path / "bad.svg").exists()


# -------------------------------------------------------------------- repeated steps


def _unrolled(steps: int) -> tuple[tl.Tensor, list[tl.Tensor], tl.Tensor]:
    """h = tanh(x_t * w + h) for ``steps`` steps, each x_t a constant; loss = sum of the hs."""
    w = tl.Tensor([0.5, -0.25], requires_grad=True)
    h = tl.Tensor([0.0, 0.0])
    states = []
    for t in range(steps):
        h = (tl.Tensor([t, 1.0]) * w + h).tanh()
        states.append(h)
    return tl.cat(states).sum(), states, w


def test_steps_put_each_steps_ops_and_constants_in_a_box() -> None:
    loss, states, w = _unrolled(3)
    dot = to_dot(loss, names={"w": w}, steps=states)
    assert [line.strip() for line in dot.splitlines() if 'label="step' in line] == [
        f'label="step {k}"; style="rounded"; color="#999999";' for k in range(3)
    ]
    boxes = re.findall(r"subgraph cluster_(\d+) \{\n(.*?)\n  \}", dot, re.DOTALL)
    assert [k for k, _ in boxes] == ["0", "1", "2"]
    for k, body in boxes:
        labels = re.findall(r'label="([^"]*)"', body)[1:]  # after the box's own label
        ops = [label for label in labels if label in ("mul", "add", "tanh")]
        assert ops == ["mul", "add", "tanh"]  # the step's three ops, and only them
        # x_t, and in step 0 the starting state too: the constants only this step uses
        assert sum("const" in label for label in labels) == (2 if k == "0" else 1)
    outside = dot.split("\n  }\n")[-1]
    assert 'label="w\\n(2,)' in outside  # used by every step: outside the boxes
    assert 'label="cat"' in outside and 'label="sum"' in outside
    # the same nodes and edges as the drawing without boxes, only grouped
    plain = to_dot(loss, names={"w": w})
    assert sorted(_nodes(dot).items()) == sorted(_nodes(plain).items())
    assert sorted(_edges(dot)) == sorted(_edges(plain))


def test_fold_keeps_the_first_two_steps_and_the_last_and_draws_one_node_for_the_rest() -> None:
    loss, states, w = _unrolled(10)
    dot = to_dot(loss, names={"w": w}, steps=states, fold=True)
    assert re.findall(r"subgraph cluster_(\d+)", dot) == ["0", "1", "9"]
    assert (
        'fold [label="steps 2 to 8\\n7 steps, 21 ops, folded", shape=box, style="dashed"];' in dot
    )
    edges = _edges(dot)
    assert len(edges) == len(set(edges))  # each edge into or out of the fold drawn once
    into = sorted(src for src, dst in edges if dst == "fold")
    labels = _nodes(dot)
    assert sorted(labels[src] for src in into) == sorted(["w\\n(2,)", "(2,)"])  # w and h1
    out_of = [dst for src, dst in edges if src == "fold"]
    assert sorted(labels[dst] for dst in out_of) == ["add", "cat"]  # h8 into step 9, and cat
    assert len(_nodes(dot)) < len(_nodes(to_dot(loss))) / 2
    assert to_dot(loss, steps=states[:3], fold=True) == to_dot(loss, steps=states[:3])


def test_steps_must_be_in_the_graph_and_fold_needs_steps() -> None:
    loss, states, _ = _unrolled(3)
    with pytest.raises(ValueError, match=r"steps\[1\] is not in the graph behind the tensor"):
        to_dot(loss, steps=[states[0], tl.Tensor([1.0, 2.0])])
    with pytest.raises(TypeError, match="steps must be a list of tensors"):
        to_dot(loss, steps=3)
    with pytest.raises(ValueError, match="fold=True folds steps; give the steps too"):
        to_dot(loss, fold=True)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
def test_graphviz_draws_the_boxes_and_the_fold(tmp_path: Path) -> None:
    loss, states, _ = _unrolled(6)
    svg = render(to_dot(loss, steps=states, fold=True), tmp_path / "steps.svg").read_text()
    assert "step 0" in svg and "steps 2 to 4" in svg
