"""Stop at the first NaN or infinity, and say which op made it.

Floating point follows IEEE (``log(0) = -inf``, ``0 * inf = nan``) and no warning is
printed, so a bad value can travel a long way before a loss turns into ``nan``. Inside
``detect_anomaly()``, every forward value and every gradient a backward rule returns is
checked, and the first one that is not finite raises ``AnomalyError``:

>>> import tinygrad_lite as tl
>>> x = tl.Tensor([1.0, 0.0], requires_grad=True)
>>> with tl.detect_anomaly():  # doctest: +ELLIPSIS
...     y = x.log().sum()
Traceback (most recent call last):
    ...
tinygrad_lite.tools.anomaly.AnomalyError: log (forward) produced -inf in its output (2,) ...

In forward mode, the tangent each op's output gets is checked too (phase "tangent").

Under ``backward(create_graph=True)`` a rule's arithmetic is itself made of recorded ops,
so a bad value there is reported as the forward of the op inside the rule (``log``'s rule
``grad / x`` at 0 is reported as ``div``).

Outside the block nothing is checked, and it costs nothing beyond the one test every op
already makes for observers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.hooks import Observer, tangents_of
from tinygrad_lite.tools.labels import argument_names


class AnomalyError(RuntimeError):
    """A NaN or an infinity appeared; ``op`` made it, in ``phase`` (forward, backward, or
    tangent for the tangent forward mode gave its output).

    ``input_shapes`` are the shapes of the op's inputs and ``inputs_finite`` says, for each,
    whether all its values were finite (False there means the bad value came from further
    back: a leaf, or an op run outside ``detect_anomaly()``).
    """

    def __init__(
        self,
        message: str,
        op: str,
        phase: str,
        input_shapes: tuple[tuple[int, ...], ...],
        inputs_finite: tuple[bool, ...],
    ) -> None:
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.input_shapes = input_shapes
        self.inputs_finite = inputs_finite


class detect_anomaly(Observer):  # noqa: N801 (a context manager, named like PyTorch's)
    """Raise ``AnomalyError`` at the first NaN or inf in a forward value or a gradient.

    Works in the thread that enters it, for the duration of the ``with`` block.
    """

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        if not np.isfinite(out.data).all():
            arrays = [x.data for x in inputs]
            raise _error(
                fn, "forward", fn.name, f"its output {out.data.shape}", out.data, arrays, ""
            )
        for out_t in tangents_of(out):
            if out_t is not None and not np.isfinite(out_t.data).all():
                tangents = [t for t in (tangents_of(x)[-1] for x in inputs) if t is not None]
                finite = all(np.isfinite(t.data).all() for t in tangents)
                raise _error(
                    fn,
                    "tangent",
                    fn.name,
                    f"its output's tangent {out_t.data.shape}",
                    out_t.data,
                    [x.data for x in inputs],
                    f"; the inputs' tangents were {'finite' if finite else 'NOT finite'}",
                )

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        for position, dx in enumerate(input_grads):
            if dx is None:
                continue
            dx = dx if isinstance(dx, np.ndarray) else dx.data
            if not np.isfinite(dx).all():
                name = argument_names(fn, len(fn.inputs))[position]
                grad = grad if isinstance(grad, np.ndarray) else grad.data
                incoming = "finite" if np.isfinite(grad).all() else "NOT finite"
                raise _error(
                    fn,
                    "backward",
                    fn.name,
                    f"the gradient it returned for input {name}",
                    dx,
                    [x.data for x in fn.inputs],
                    f"; the incoming gradient {grad.shape} was {incoming}",
                )


def _error(
    fn: Any, phase: str, op: str, where: str, bad: np.ndarray, inputs: list[np.ndarray], extra: str
) -> AnomalyError:
    finite = tuple(bool(np.isfinite(x).all()) for x in inputs)
    shapes = tuple(x.shape for x in inputs)
    described = ", ".join(
        f"{name} {shape} {'finite' if ok else 'NOT finite'}"
        for name, shape, ok in zip(argument_names(fn, len(inputs)), shapes, finite)
    )
    message = (
        f"{op} ({phase}) produced {_kinds(bad)} in {where} ({_count(bad)} of {bad.size} "
        f"elements); its inputs: {described}{extra}"
    )
    return AnomalyError(message, op, phase, shapes, finite)


def _kinds(values: np.ndarray) -> str:
    """Which of nan, inf, -inf occur in ``values``."""
    kinds = []
    if np.isnan(values).any():
        kinds.append("nan")
    if np.isposinf(values).any():
        kinds.append("inf")
    if np.isneginf(values).any():
        kinds.append("-inf")
    return " and ".join(kinds)


def _count(values: np.ndarray) -> int:
    return int(values.size - np.isfinite(values).sum())
