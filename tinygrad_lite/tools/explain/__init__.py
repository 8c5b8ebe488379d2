"""See backprop happen: one step of a graph as a page to walk through, forward then backward.

``tl.viz.explain(loss)`` records one step of a computation and returns an
:class:`Explanation`: a self-contained HTML page (its script, styles and picture inline; it
opens from disk, offline) that draws the graph and walks it op by op. Forward, each step
lights an op and shows what it computed; backward, each step lights the node whose rule
runs and shows the rule in symbols (the op's docstring, ``dx = grad * (out*(1-out))``) and
in numbers: the gradient arriving, the local derivative, the contribution sent to each
input, and, where a tensor feeds several ops, the contributions adding up.

>>> import numpy as np
>>> import tinygrad_lite as tl
>>> from tinygrad_lite import Tensor, nn
>>> model = nn.Sequential(nn.Linear(2, 3, rng=np.random.default_rng(0)), nn.Sigmoid())
>>> X, y = Tensor([[0.0, 1.0], [1.0, 0.0]]), Tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
>>> page = tl.viz.explain(lambda: nn.sse_loss(model(X), y), names=model)
>>> [step["phase"] for step in page.steps][:4]
['forward', 'forward', 'forward', 'backward']
>>> print(page.steps[4]["rule"])
dx = grad * (out*(1-out))
>>> page.save("explain.html")  # doctest: +SKIP

``loss`` is a function of no arguments that computes the loss (as above): the explainer
runs it, so it sees which module made each op, and can run it again to estimate every
parameter's gradient by central differences. It may also be a loss already computed, a
one-element Tensor whose graph is still there: the page then shows that graph, without
module frames or central differences. ``optimizer=`` takes the step too (zero_grad, the
gradients, ``step()``) and shows each parameter's update. The page's data is JSON in
``<script type="application/json" id="explain-data">``, and the element with id
``explain-step`` shows the current step's text: a stable surface for scripts and tests.
docs/explain.md says more.

The files, in the order the work goes: ``record.py`` watches the step (an ``Observer``),
``steps.py`` turns the records into steps, ``views.py`` decides which module frame each
node sits in and ``layout.py`` where it is drawn, ``page.py`` writes the HTML with
``page.js`` and ``page.css`` inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_lite import engine
from tinygrad_lite.grad_mode import fp_quiet, no_grad
from tinygrad_lite.tensor import Tensor
from tinygrad_lite.tools.explain import page, views
from tinygrad_lite.tools.explain.record import FREED, Recorder, replay
from tinygrad_lite.tools.explain.steps import HandWritten, Steps

MAX_ELEMENTS = 1000  # values the page keeps of each array; a larger one keeps its first rows
MAX_CHECKS = 24  # elements of each parameter checked by central differences
FOLD_LIMIT = 60  # nodes in one picture before modules fold into boxes

__all__ = ["Explanation", "HandWritten", "explain"]


class Explanation:
    """One explained step: ``data`` (what the page holds), ``html()``, ``save(path)``.

    ``steps`` is ``data["steps"]``; ``arrays`` holds every array in full (the page keeps at
    most ``max_elements`` values of each: ``data["arrays"][i]`` is ``arrays[i]`` folded).
    In a notebook the object shows the page itself.
    """

    def __init__(self, data: dict[str, Any], arrays: list[np.ndarray]) -> None:
        self.data = data
        self.arrays = arrays

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.data["steps"]
        return steps

    def html(self) -> str:
        """The page: one HTML document with everything inline."""
        return page.render(self.data)

    def save(self, path: str | os.PathLike[str]) -> os.PathLike[str]:
        """Write the page to ``path``: whole or not at all (written beside, then renamed)."""
        return page.write(path, self.html())

    def _repr_html_(self) -> str:
        return page.inline_frame(self.html())

    def __repr__(self) -> str:
        return f"<Explanation: {self.data['title']}, {len(self.steps)} steps>"


def explain(
    loss: Callable[[], Tensor] | Tensor,
    path: str | os.PathLike[str] | None = None,
    *,
    names: Any = None,
    optimizer: Any = None,
    hand_written: Iterable[HandWritten] = (),
    title: str | None = None,
    max_elements: int = MAX_ELEMENTS,
    fold_limit: int = FOLD_LIMIT,
) -> Explanation:
    """Explain one step of ``loss``; write the page to ``path`` if given.

    ``loss``: a function of no arguments returning the loss (a one-element Tensor), or
    such a loss already computed. ``names`` names tensors and modules as ``tl.viz.to_dot``
    does (a Module names its parameters and layers). ``optimizer``: take the step with it.
    ``hand_written``: lines to compare (:class:`HandWritten`). Raises ``RuntimeError`` when
    nothing in the graph requires grad, or when its graph was freed.
    """
    for setting, value in (("max_elements", max_elements), ("fold_limit", fold_limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"explain: {setting} must be an int >= 1, got {value!r}")
    lines = list(hand_written)
    for h in lines:
        if not isinstance(h, HandWritten):
            raise TypeError(f"explain: hand_written takes HandWritten lines, got {h!r}")
    if optimizer is not None and not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"explain: optimizer must have step() and zero_grad() (an optim optimizer), got "
            f"{type(optimizer).__name__}"
        )
    recorder = Recorder(names)
    if isinstance(loss, Tensor):
        root, rerun = loss, None
        replay(recorder, root)
    elif callable(loss):
        rerun = loss
        with recorder:
            root = loss()
        if not isinstance(root, Tensor):
            raise TypeError(
                f"explain: the function must return the loss, a one-element Tensor; it "
                f"returned {type(root).__name__}"
            )
    else:
        raise TypeError(
            f"explain: loss must be a function that computes the loss, or a one-element "
            f"Tensor with its graph; got {type(loss).__name__}"
        )
    _check_loss(root)
    with recorder:
        try:
            pairs = engine.backward(
                root, np.ones_like(root.data), retain_graph=rerun is None, create_graph=False
            )
        except RuntimeError as error:
            if "freed" not in str(error):
                raise
            if rerun is None:
                raise RuntimeError(FREED) from None
            raise RuntimeError(
                "explain: the function ran backward() itself, which freed the graph; give "
                "a function that only computes the loss (explain runs the backward pass)"
            ) from None
    grads = {id(leaf): np.asarray(g) for leaf, g in pairs}
    checks = _central_differences(rerun, recorder, grads) if rerun is not None else {}
    updates = _take_step(optimizer, recorder, pairs) if optimizer is not None else {}
    steps = Steps(recorder, id(root), grads, checks, updates, optimizer, max_elements)
    steps.compare(lines)
    pictures = views.views(steps, fold_limit)
    data = {
        "format": 1,
        "title": title or "one step of a computation, forward and backward",
        "phases": [p for p in ("forward", "backward", "update") if p in _phases(steps)],
        "nodes": steps.nodes,
        "edges": steps.edges,
        "steps": steps.steps,
        "arrays": steps.stored,
        "views": pictures,
    }
    explanation = Explanation(data, steps.arrays)
    if path is not None:
        explanation.save(path)
    return explanation


def _phases(steps: Steps) -> set[str]:
    return {s["phase"] for s in steps.steps}


def _check_loss(root: Tensor) -> None:
    if root.data.size != 1:
        raise ValueError(
            f"explain: the loss must have one element, got shape {root.data.shape}; reduce it "
            f"first (.sum(), .mean())"
        )
    if not root.requires_grad:
        raise RuntimeError(
            "explain: nothing in the graph requires grad, so there is no gradient to show; "
            "make the parameters with requires_grad=True (nn layers do), and do not compute "
            "the loss under no_grad()"
        )
    if root._ctx is None:
        raise ValueError("explain: the loss is a leaf, not the result of an op: no graph")


@fp_quiet()
def _central_differences(
    loss_fn: Callable[[], Tensor], recorder: Recorder, grads: dict[int, np.ndarray]
) -> dict[int, dict[str, Any]]:
    """For some elements of each parameter: (L(w + eps) - L(w - eps)) / (2 eps), as
    ``tl.gradcheck`` computes it, from the loss computed again (under no_grad) with the
    element moved; divided by the step actually taken, after rounding."""
    checks: dict[int, dict[str, Any]] = {}
    for key, grad in grads.items():
        p = recorder.tensors[key]
        original = p.data
        size = original.size
        picks = range(size) if size <= MAX_CHECKS else np.linspace(0, size - 1, MAX_CHECKS)
        indices = sorted({int(round(k)) for k in picks})
        eps = 1e-6 if original.dtype == np.float64 else 1e-3
        work = np.array(original, copy=True)
        numeric = []
        p.data = work  # the loss reads the parameter through the Tensor: give it the copy
        try:
            with no_grad():
                for k in indices:
                    value = work.flat[k]
                    work.flat[k] = value + eps
                    up, plus = work.flat[k], float(loss_fn().data)
                    work.flat[k] = value - eps
                    down, minus = work.flat[k], float(loss_fn().data)
                    work.flat[k] = value
                    numeric.append((plus - minus) / float(up - down))
        finally:
            p.data = original
        analytic = [float(grad.flat[k]) for k in indices]
        checks[key] = {
            "indices": [[int(i) for i in np.unravel_index(k, original.shape)] for k in indices],
            "backward": analytic,
            "numeric": numeric,
            "eps": eps,
            "max_abs_difference": max(abs(a - n) for a, n in zip(analytic, numeric)),
            "all": len(indices) == size,
        }
    return checks


def _take_step(
    optimizer: Any, recorder: Recorder, pairs: list[tuple[Any, Any]]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The end of a training step: zero_grad, the gradients into ``.grad``, ``step()``."""
    before = {id(leaf): np.array(leaf.data, copy=True) for leaf, _ in pairs}
    optimizer.zero_grad()
    for leaf, g in pairs:
        leaf.grad = Tensor(g)
    optimizer.step()
    return {key: (value, np.array(recorder.tensors[key].data)) for key, value in before.items()}
