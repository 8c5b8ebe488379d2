"""``tinygrad-lite gradcheck``: the gradient of a model's loss with respect to each of its
parameters, from ``backward()``, against central differences (``tl.gradcheck``).

A parameter of up to ``MAX_ELEMENTS`` elements is checked at every element; a larger one
at that many, drawn at random by ``numpy.random.default_rng(0)`` (the same ones at every
run): a convolutional network's 5000 weights would take minutes, two loss evaluations
each, and a wrong rule shows in any hundred of them. The elements checked are the inputs
of a function that puts them in place in a copy of the parameter (a matrix product with a
0/1 matrix, exact) and computes the loss, so ``tl.gradcheck`` sees only them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import tinygrad_lite as tl
from models.cli.arguments import CommandFailedError
from tinygrad_lite import nn

EPS = 1e-6  # the step of the central differences, tl.gradcheck's default
MAX_ELEMENTS = 100  # elements checked per parameter, at most


class GradcheckResult(NamedTuple):
    """One parameter's check: the worst element, its two derivatives and the errors."""

    parameter: str
    shape: tuple[int, ...]
    worst_index: tuple[int, ...] | None
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    passed: bool
    checked: int  # how many of its elements were checked


def check_parameters(model: nn.Module, loss: Callable[[], tl.Tensor]) -> list[GradcheckResult]:
    """Check the gradient of ``loss()`` (which runs ``model``) for each parameter in turn."""
    results = []
    for name, parameter in model.named_parameters():
        owner, attribute = _owner(model, name)

        def loss_at(value: tl.Tensor, owner: Any = owner, attribute: str = attribute) -> Any:
            original = getattr(owner, attribute)
            setattr(owner, attribute, value)  # the model's own forward, on this value
            try:
                return loss()
            finally:
                setattr(owner, attribute, original)

        results.append(_check(name, parameter, loss_at))
    return results


def chosen_elements(size: int) -> np.ndarray:
    """The flat indices of the elements of a parameter of ``size`` elements to check."""
    if size <= MAX_ELEMENTS:
        return np.arange(size)
    return np.sort(np.random.default_rng(0).choice(size, MAX_ELEMENTS, replace=False))


def _owner(model: nn.Module, dotted: str) -> tuple[Any, str]:
    """The object that holds the parameter named ``dotted`` ("0.weight"), and its attribute."""
    *path, attribute = dotted.split(".")
    owner: Any = model
    for part in path:
        owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
    return owner, attribute


def _check(name: str, parameter: tl.Tensor, loss_at: Callable[[tl.Tensor], Any]) -> GradcheckResult:
    """``tl.gradcheck`` of ``loss_at`` at ``parameter`` (at its chosen elements), and the
    element that differs most.

    The verdict is tl.gradcheck's (its default tolerances, and its allowance for rounding
    in the loss). tl.gradcheck names an element only when it fails, so the largest
    difference is measured here too, the same way: the gradient from backward
    (``tl.grad``) against central differences with tl.gradcheck's step, element by element.
    """
    shape = parameter.data.shape
    chosen = chosen_elements(parameter.data.size)
    full = parameter.data.astype(np.float64).reshape(-1)
    rest = full.copy()
    rest[chosen] = 0.0
    place = np.zeros((len(chosen), full.size))  # row j puts element j where it belongs
    place[np.arange(len(chosen)), chosen] = 1.0
    rest_t, place_t = tl.Tensor(rest), tl.Tensor(place)

    def loss_of(values: tl.Tensor) -> Any:
        return loss_at((rest_t + values @ place_t).reshape(*shape))

    x = full[chosen]
    try:
        passed = tl.gradcheck(loss_of, x, eps=EPS)  # an array: each element is checked
    except tl.GradcheckError:
        passed = False
    analytic = tl.grad(loss_of)(tl.Tensor(x)).data
    numeric = np.empty_like(x)
    work = x.copy()
    with tl.no_grad():
        for k in range(x.size):
            value = work[k]
            work[k] = value + EPS
            plus_step, plus = work[k], loss_of(tl.Tensor(work)).item()
            work[k] = value - EPS
            minus_step, minus = work[k], loss_of(tl.Tensor(work)).item()
            work[k] = value
            # divided by the step actually taken, after rounding value + EPS and value - EPS
            numeric[k] = (plus - minus) / (plus_step - minus_step)
    difference = np.abs(analytic - numeric)
    k = int(np.argmax(difference))
    a, n = float(analytic[k]), float(numeric[k])
    return GradcheckResult(
        parameter=name,
        shape=tuple(shape),
        worst_index=tuple(int(i) for i in np.unravel_index(chosen[k], shape)),
        analytic=a,
        numeric=n,
        abs_error=abs(a - n),
        rel_error=abs(a - n) / abs(n) if n else (0.0 if a == n else math.inf),
        passed=passed,
        checked=len(chosen),
    )


def report(model: str, heading: str, results: list[GradcheckResult], as_json: bool) -> int:
    """Print the results, as JSON or as ``heading`` over the table; exit status 0 if every
    parameter passed, else a CommandFailedError naming those that did not."""
    if as_json:
        print(json.dumps({"model": model, "parameters": [r._asdict() for r in results]}))
    else:
        print(heading)
        print(gradcheck_table(results))
    failed = [r.parameter for r in results if not r.passed]
    if failed:
        raise CommandFailedError(f"gradcheck failed for {', '.join(failed)}")
    return 0


def gradcheck_table(results: list[GradcheckResult]) -> str:
    header = [
        "parameter",
        "shape",
        "checked",
        "worst element",
        "analytic",
        "numeric",
        "abs error",
        "rel error",
        "result",
    ]
    rows = [header]
    for r in results:
        size = math.prod(r.shape)
        rows.append(
            [
                r.parameter,
                str(r.shape),
                "all" if r.checked == size else f"{r.checked} of {size}",
                "-" if r.worst_index is None else str(r.worst_index),
                f"{r.analytic:.10g}",
                f"{r.numeric:.10g}",
                f"{r.abs_error:.2e}",
                f"{r.rel_error:.2e}",
                "ok" if r.passed else "FAILED",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
