"""tl.viz.explain: the data of the page, checked against the framework's own numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from explain_networks import deep_mlp, recurrence

import tinygrad_lite as tl
from models.cli import explain as seed_pages
from models.cli import jobs
from tinygrad_lite import Tensor, nn, optim
from tinygrad_lite.grad_mode import Observer
from tinygrad_lite.tools.explain.page import encode_array


def _neuron() -> tuple[nn.Sequential, Tensor, Tensor]:
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)), nn.Sigmoid())
    x = Tensor([[0.0, 1.0, 2.0], [1.0, 0.0, -1.0], [0.5, 0.5, 0.5], [2.0, -1.0, 0.0]])
    y = Tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    return model, x, y


def _explain(**settings: Any) -> tuple[tl.viz.Explanation, nn.Sequential, Tensor, Tensor]:
    model, x, y = _neuron()
    page = tl.viz.explain(lambda: nn.sse_loss(model(x), y), names=model, **settings)
    return page, model, x, y


def _value(page: tl.viz.Explanation, step: dict[str, Any], label: str) -> np.ndarray:
    """The full array of the item of ``step`` whose label starts with ``label``."""
    for item in step["items"]:
        if item["label"].startswith(label):
            return page.arrays[item["array"]]
    raise KeyError(label)


# ------------------------------------------------------------------------ the steps


def test_the_steps_walk_forward_then_backward_then_the_gradients() -> None:
    page, model, x, y = _explain()
    kinds = [(s["phase"], s["kind"]) for s in page.steps]
    assert (
        kinds == [("forward", "op")] * 3 + [("backward", "op")] * 3 + [("backward", "gradient")] * 2
    )
    assert [s["number"] for s in page.steps] == list(range(1, 9))
    assert [s["rule"] for s in page.steps[:3]] == [
        "out = x @ w + b",
        "out = 1/(1+exp(-x))",
        "out = 0.5 * sum((target - pred)**2)",
    ]
    assert page.steps[4]["rule"] == "dx = grad * (out*(1-out))"
    assert page.steps[5]["module"] == "0: Linear" and page.steps[4]["module"] == "1: Sigmoid"


def test_the_numbers_are_the_frameworks_own() -> None:
    page, model, x, y = _explain()
    with tl.no_grad():
        z = model[0](x)
        out = z.sigmoid()
    assert np.array_equal(_value(page, page.steps[0], "out ="), z.data)
    assert np.array_equal(_value(page, page.steps[1], "out ="), out.data)
    # The gradients are backward()'s, to the bit.
    loss = nn.sse_loss(model(x), y)
    loss.backward()
    w, b = model[0].weight, model[0].bias
    assert np.array_equal(_value(page, page.steps[6], "dL/d 0.weight"), w.grad.data)
    assert np.array_equal(_value(page, page.steps[7], "dL/d 0.bias"), b.grad.data)


def test_an_elementwise_rule_shows_grad_times_its_local_derivative() -> None:
    page, *_ = _explain()
    step = page.steps[4]  # sigmoid's rule
    grad, out = _value(page, step, "grad ="), _value(page, step, "out =")
    local = _value(page, step, "local derivative d out/d x = out*(1-out)")
    contribution = _value(page, step, "dx = grad × local derivative")
    assert np.array_equal(local, out * (1 - out))
    assert np.array_equal(contribution, grad * local)


def test_a_matmul_writes_out_its_transpose_and_a_bias_its_sum() -> None:
    page, model, x, _ = _explain()
    step = page.steps[5]  # Affine: x @ w + b
    assert step["rule"] == "dw = x.T @ grad    db = grad summed over the rows"
    assert np.array_equal(_value(page, step, "x.T = "), x.data.T)
    notes = [item.get("note", "") for item in step["items"] if item.get("contribution")]
    assert notes == [
        "",
        "summed over axis 0 of grad: (4, 2) → (2,), the axes the forward broadcast",
    ]
    assert step["notes"] == ["no gradient for x: a constant"]


def test_contributions_from_several_uses_add_up_in_a_step_of_their_own() -> None:
    w = Tensor([0.5, -1.5, 2.0], requires_grad=True)
    page = tl.viz.explain(lambda: (w * w).sum() + (w.exp() * 3).sum(), names={"w": w})
    sums = [s for s in page.steps if s["kind"] == "sum"]
    assert len(sums) == 1
    (step,) = sums
    assert step["title"] == "w was used 3 times: its contributions add up"
    parts = [page.arrays[item["array"]] for item in step["items"][:-1]]
    total = _value(page, step, "dL/d w = their sum")
    assert np.array_equal(total, parts[0] + parts[1] + parts[2])  # in the engine's order
    expected = tl.grad(lambda v: (v * v).sum() + (v.exp() * 3).sum())(Tensor(w.data))
    assert np.array_equal(total, expected.data)
    # the sum comes right after the last contribution, before the gradient steps
    assert page.steps[step["number"] - 2]["kind"] == "op"
    assert page.steps[step["number"]]["kind"] == "gradient"


def test_central_differences_agree_with_backward() -> None:
    page, *_ = _explain()
    for step in page.steps[6:]:
        check = step["check"]
        assert check["all"] and len(check["indices"]) in (6, 2)
        assert check["max_abs_difference"] < 1e-8
        assert np.allclose(check["backward"], check["numeric"], rtol=1e-6, atol=1e-9)


def test_a_large_parameter_is_checked_at_a_spread_of_elements() -> None:
    loss, model, _ = deep_mlp(layers=1, width=32)
    page = tl.viz.explain(loss, names=model)
    check = next(s["check"] for s in page.steps if s["title"].startswith("the gradient of 0.w"))
    assert not check["all"] and len(check["indices"]) == 24
    assert check["indices"][0] == [0, 0] and check["indices"][-1] == [31, 31]
    assert np.allclose(check["backward"], check["numeric"], rtol=1e-5, atol=1e-8)


def test_explaining_changes_nothing_without_an_optimizer() -> None:
    model, x, y = _neuron()
    before = model.state_dict()
    tl.viz.explain(lambda: nn.sse_loss(model(x), y), names=model)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_with_an_optimizer_the_step_is_taken_and_shown() -> None:
    model, x, y = _neuron()
    twin = nn.Sequential(nn.Linear.from_weights(model[0].weight.data, model[0].bias.data))
    sgd = optim.SGD(model.parameters(), lr=0.5)
    page = tl.viz.explain(lambda: nn.sse_loss(model(x), y), names=model, optimizer=sgd)
    updates = [s for s in page.steps if s["phase"] == "update"]
    assert [s["title"] for s in updates] == [
        "0.weight takes its step",
        "0.bias takes its step",
    ]
    assert updates[0]["rule"] == "SGD(lr=0.5).step(): 0.weight moves against its gradient"
    # the same step taken by hand on a twin
    twin_sgd = optim.SGD(twin.parameters(), lr=0.5)
    nn.sse_loss(twin[0](x).sigmoid(), y).backward()
    twin_sgd.step()
    assert np.array_equal(model[0].weight.data, twin[0].weight.data)
    assert np.array_equal(_value(page, updates[0], "0.weight after"), twin[0].weight.data)
    assert np.array_equal(model[0].weight.grad.data, twin[0].weight.grad.data)


def test_a_loss_already_computed_is_explained_without_central_differences() -> None:
    model, x, y = _neuron()
    loss = nn.sse_loss(model(x), y)
    page = tl.viz.explain(loss, names=model)
    assert [s["kind"] for s in page.steps].count("op") == 6
    gradient = page.steps[6]
    assert gradient["check"] is None and "no central differences" in gradient["notes"][0]
    loss.backward()  # the graph is still there, and .grad was not touched before
    assert np.array_equal(_value(page, gradient, "dL/d 0.weight"), model[0].weight.grad.data)
    with pytest.raises(RuntimeError, match="freed by backward"):
        tl.viz.explain(loss)


# --------------------------------------------------------------- the seed networks


@pytest.mark.parametrize("name", ["single-neuron", "xor"])
def test_the_seed_lines_stand_beside_their_steps_equal_bit_for_bit(name: str) -> None:
    page = seed_pages.page(jobs.make(name))
    lines = {h["line"]: (s, h) for s in page.steps for h in s.get("hand_written", [])}
    assert all(h["equal"] and h["max_abs_difference"] == 0.0 for _, h in lines.values())
    if name == "xor":
        step, h = lines["l1_delta = l2_error * l2_slope * lr"]
        assert step["rule"] == "dx = grad * (out*(1-out))" and step["module"] == "3: Sigmoid"
        assert h["ours"] == "-dL/d matmul#3 (the output of 2: Linear)"
        assert lines["l0_delta = l1_error * l1_slope * lr"][0]["module"] == "1: Sigmoid"
        assert lines["w0 += dot(l0.T, l0_delta)"][0]["phase"] == "update"
        assert len(lines) == 7
    else:
        assert lines["delta = error * slope"][0]["rule"] == "dx = grad * (out*(1-out))"
        assert len(lines) == 4


def test_the_seed_update_line_is_the_seeds_loop() -> None:
    # The lines are written out in models/cli/explain.py; the update must be manual_train's.
    from models import single_neuron

    job = jobs.make("single-neuron")
    state = job.model.state_dict()
    page = seed_pages.page(job)
    single_neuron.manual_train(state, 1)
    (update,) = [h for s in page.steps for h in s.get("hand_written", []) if "+=" in h["line"]]
    assert np.array_equal(page.arrays[update["seed_array"]], state["0.weight"])


def test_a_line_that_differs_is_shown_as_differing() -> None:
    model, x, y = _neuron()
    wrong = tl.viz.HandWritten("dw = x.T @ delta * 1.0001", np.zeros((3, 2)), grad_of="0.weight")
    page = tl.viz.explain(lambda: nn.sse_loss(model(x), y), names=model, hand_written=[wrong])
    (h,) = [h for s in page.steps for h in s.get("hand_written", [])]
    assert not h["equal"] and h["max_abs_difference"] > 0


def test_a_hand_written_line_must_name_something_there() -> None:
    model, x, y = _neuron()
    with pytest.raises(ValueError, match=r"names no parameter and no module.*0\.weight"):
        tl.viz.explain(
            lambda: nn.sse_loss(model(x), y),
            names=model,
            hand_written=[tl.viz.HandWritten("x", 0.0, grad_of="nothing")],
        )
    with pytest.raises(ValueError, match="update_of='0.weight' names no parameter"):
        tl.viz.explain(  # no optimizer: nothing was updated
            lambda: nn.sse_loss(model(x), y),
            names=model,
            hand_written=[tl.viz.HandWritten("x", 0.0, update_of="0.weight")],
        )


# -------------------------------------------------------------- large graphs fold


def _page_size(page: tl.viz.Explanation) -> int:
    return len(page.html().encode())


def test_a_recurrence_over_25_steps_folds_into_one_box_per_step() -> None:
    loss, model, sgd = recurrence(steps=25)
    page = tl.viz.explain(loss, names=model, optimizer=sgd)
    top = page.data["views"][0]
    boxes = [b["title"] for b in top["boxes"]]
    assert [b for b in boxes if b.startswith("cell")] == [
        f"cell: Cell (call {k})" for k in range(1, 26)
    ]
    assert len(top["nodes"]) + len(top["boxes"]) <= 70
    # each box opens its own picture, where the cell's ops are
    inside = page.data["views"][top["boxes"][0]["opens"]]
    assert sorted(page.data["nodes"][n["node"]]["op"] for n in inside["nodes"]) == [
        "add",
        "affine",
        "matmul",
        "tanh",
    ]
    # the shared weights' 25 contributions add up in a step
    sums = {s["title"] for s in page.steps if s["kind"] == "sum"}
    assert "cell.hh.weight was used 25 times: its contributions add up" in sums
    assert _page_size(page) < 2_000_000


def test_a_deep_mlp_folds_each_linear_into_a_box() -> None:
    loss, model, sgd = deep_mlp(layers=30)
    page = tl.viz.explain(loss, names=model, optimizer=sgd, max_elements=256)
    top = page.data["views"][0]
    assert len(top["boxes"]) == 31 and all(b["title"].endswith(": Linear") for b in top["boxes"])
    assert {b["summary"] for b in top["boxes"]} == {"1 op, 2 params"}
    assert len(top["nodes"]) + len(top["boxes"]) <= 70
    assert _page_size(page) < 3_000_000
    for node in page.data["nodes"]:  # every node can be shown
        assert "view" in node


def test_every_step_has_a_node_drawn_somewhere() -> None:
    loss, model, sgd = recurrence(steps=5)
    page = tl.viz.explain(loss, names=model, optimizer=sgd)
    views = page.data["views"]
    drawn = {n["node"] for v in views for n in v["nodes"]}
    assert {s["node"] for s in page.steps} <= drawn


# --------------------------------------------------------------------- the page


def test_the_page_carries_its_data_and_asks_for_nothing_outside() -> None:
    page, *_ = _explain(title="a </script> <!-- title")
    html = page.html()
    found = re.search(r'<script type="application/json" id="explain-data">(.*?)</script>', html)
    assert found is not None
    assert json.loads(found.group(1)) == json.loads(json.dumps(page.data))
    assert "a &lt;/script&gt; &lt;!-- title" in html  # escaped where it is shown
    assert html.count("</script>") == 2
    # No file or address to fetch: no src, href, link, import or url() but the arrow's.
    assert not re.search(r"\bsrc=|\bhref=|<link|@import|fetch\(|XMLHttpRequest", html)
    assert re.findall(r"url\(([^)]*)\)", html) == ["#arrow"]
    assert 'id="explain-step"' in html


def test_a_notebook_shows_the_page_in_a_frame_of_its_own() -> None:
    page, *_ = _explain()
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert "&lt;script type=&quot;application/json&quot; id=&quot;explain-data&quot;" in frame


def test_saving_writes_the_page_whole(tmp_path: Path) -> None:
    page, *_ = _explain()
    target = tmp_path / "page.html"
    assert Path(page.save(target)) == target
    assert target.read_text() == page.html()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        page.save(tmp_path / "missing" / "page.html")
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(OSError):
        page.save(tmp_path / "folder.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.html", "page.html"]


def test_big_arrays_keep_their_first_rows() -> None:
    stored = encode_array(np.arange(50.0).reshape(10, 5), max_elements=12)
    assert stored["rows"] == [[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]]
    assert (stored["total_rows"], stored["total_columns"]) == (10, 5)
    assert stored["norm"] == float(np.linalg.norm(np.arange(50.0)))
    wide = encode_array(np.ones(30), max_elements=12)
    assert wide["rows"] == [[1.0] * 12] and wide["shape"] == [30]
    odd = encode_array(np.array([np.inf, -np.inf, np.nan, -0.0]), max_elements=12)
    assert odd["rows"] == [["inf", "-inf", "nan", -0.0]]
    assert encode_array(np.float64(2.5) * np.ones(()), max_elements=1)["rows"] == [[2.5]]


# --------------------------------------------------------------------- bad input


def test_a_mapping_names_a_model_its_layers_and_parameters() -> None:
    model, x, y = _neuron()
    page = tl.viz.explain(lambda: nn.sse_loss(model(x), y), names={"X": x, "net": model})
    labels = {n["label"] for n in page.data["nodes"]}
    assert {"X", "net.0.weight", "net.0.bias"} <= labels
    assert page.steps[0]["module"] == "net.0: Linear"


def test_a_function_that_runs_backward_itself_is_told_what_to_give() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)

    def step() -> Tensor:
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match=r"ran backward\(\) itself"):
        tl.viz.explain(step)


def test_bad_input_is_a_clear_error() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="nothing in the graph requires grad"):
        tl.viz.explain(lambda: (Tensor([1.0, 2.0]) * 3).sum())
    with tl.no_grad():
        quiet = (w * 2).sum()
    with pytest.raises(RuntimeError, match="nothing in the graph requires grad"):
        tl.viz.explain(quiet)
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        tl.viz.explain(lambda: w * 2)
    with pytest.raises(TypeError, match="returned float"):
        tl.viz.explain(lambda: 1.0)
    with pytest.raises(TypeError, match="got ndarray"):
        tl.viz.explain(np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_elements must be an int >= 1"):
        tl.viz.explain(lambda: (w * w).sum(), max_elements=0)
    with pytest.raises(TypeError, match="optimizer must have step"):
        tl.viz.explain(lambda: (w * w).sum(), optimizer=object())
    with pytest.raises(TypeError, match="HandWritten lines"):
        tl.viz.explain(lambda: (w * w).sum(), hand_written=["w"])  # type: ignore[list-item]


# ------------------------------------------------------- modules report their calls


class _Calls(Observer):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def enter_module(self, module: Any) -> None:
        self.seen.append(f"enter {type(module).__name__}")

    def exit_module(self, module: Any, out: Any) -> None:
        self.seen.append(f"exit {type(module).__name__} {type(out).__name__}")


def test_an_observer_sees_every_layer_called_even_inside_sequential() -> None:
    model, x, _ = _neuron()
    expected = model(x).data
    with _Calls() as calls:
        out = model(x)
    assert calls.seen == [
        "enter Sequential",
        "enter Linear",
        "exit Linear Tensor",
        "enter Sigmoid",
        "exit Sigmoid Tensor",
        "exit Sequential Tensor",
    ]
    assert np.array_equal(out.data, expected)


def test_a_layer_that_raises_is_still_reported_as_left() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)))
    with _Calls() as calls, pytest.raises(ValueError):
        model(Tensor(np.ones((2, 5))))
    assert calls.seen[-1] == "exit Sequential NoneType"


# ------------------------------------------------------------- the tutorial's pages

DOCS = Path(__file__).resolve().parent.parent / "docs"
DATA = re.compile(r'(<script type="application/json" id="explain-data">)(.*?)(</script>)', re.S)


def _close(a: Any, b: Any, where: str = "data") -> None:
    """``a`` and ``b`` have the same structure and text, and floats equal to 1e-9, relative
    or absolute: the page's numbers were computed on some machine, and exp and BLAS differ
    by CPU in the last bits, which central differences divide by their step (1e-6)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), where
        assert abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-9, (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize("name", ["single-neuron", "xor"])
def test_the_tutorials_pages_are_the_ones_the_code_makes_today(name: str) -> None:
    committed = (DOCS / "explain" / f"{name}.html").read_text()
    fresh = seed_pages.page(jobs.make(name)).html()
    remake = f"python -m models explain {name} -o docs/explain/{name}.html"
    assert DATA.sub("", committed) == DATA.sub("", fresh), f"the page's code changed: {remake}"
    found, made = DATA.search(committed), DATA.search(fresh)
    assert found is not None and made is not None
    try:
        _close(json.loads(found.group(2)), json.loads(made.group(2)))
    except AssertionError as error:
        raise AssertionError(f"docs/explain/{name}.html is stale ({error}): {remake}") from None


def test_the_freshness_check_notices_a_changed_number() -> None:
    _close({"a": [1.0, "x"]}, {"a": [1.0 + 1e-12, "x"]})
    _close({"a": [0.0045138546233]}, {"a": [0.0045138546788]})  # central differences' noise
    with pytest.raises(AssertionError):
        _close({"a": [1.0, "x"]}, {"a": [1.0 + 1e-6, "x"]})
    with pytest.raises(AssertionError):
        _close({"a": [0.0045]}, {"a": [0.0046]})
    with pytest.raises(AssertionError):
        _close({"a": [1.0, "x"]}, {"a": [1.0, "y"]})


def test_the_pages_script_and_styles_are_installed_with_the_package() -> None:
    # They are read when a page is written: pip install must copy them (package data).
    config = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    found = re.search(r'^"tinygrad_lite\.tools\.explain" = \[(.*)\]$', config, re.M)
    assert found is not None, "pyproject.toml: no package data for tinygrad_lite.tools.explain"
    listed = set(re.findall(r'"([^"]+)"', found.group(1)))
    here = Path(tl.tools.explain.page.__file__).parent
    assert listed == {p.name for p in here.iterdir() if p.suffix in (".js", ".css")}
