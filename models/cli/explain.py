"""One training step of a model as an interactive page (``tinygrad-lite explain``), with the
seed's hand-written lines beside the steps that compute the same numbers.

``page(job)`` explains the job's next training step with ``tl.viz.explain``: forward, the
backward pass rule by rule, the central-difference check of each parameter, and the
optimizer's update. For the seed networks it also runs the seed's own formulas on the same
weights and sets each line beside its twin: ``delta`` (minus the gradient at the neuron's
input), ``l1_delta`` and ``l0_delta`` for XOR, the ``dot(X.T, delta)`` products (minus the
weights' gradients) and the weight updates, each marked equal bit for bit or not.

>>> from models.cli import jobs
>>> explained = page(jobs.make("single-neuron"))
>>> [(h["line"], h["equal"]) for s in explained.steps for h in s.get("hand_written", [])]
... # doctest: +NORMALIZE_WHITESPACE
[('error = y - output', True), ('delta = error * slope', True),
 ('dot(X.T, delta)', True), ('weights += dot(X.T, delta)', True)]
"""

from __future__ import annotations

import numpy as np
from numpy import dot, exp

import tinygrad_lite as tl
from models.cli import jobs
from tinygrad_lite.tools.viz import HandWritten


def page(job: jobs.Job, after: int = 0) -> tl.viz.Explanation:
    """The explanation of ``job``'s training step after ``after`` epochs of training."""
    for _ in range(after):
        job.step()
    when = "the first training step" if after == 0 else f"the training step after {after} epochs"
    title = (
        f"{job.name}: {when} ({job.loss_name} loss, {type(job.optimizer).__name__}"
        f"(lr={job.lr:g}), seed {job.seed})"
    )
    lines = hand_written(job)  # on the weights before the step
    return tl.viz.explain(
        job.loss, names=job.names(), optimizer=job.optimizer, hand_written=lines, title=title
    )


def hand_written(job: jobs.Job) -> list[HandWritten]:
    """The seed's lines for the job's current weights ([] for a model without them)."""
    if job.name == "single-neuron":
        return _single_neuron(job)
    if job.name == "xor":
        return _xor(job)
    return []


def _single_neuron(job: jobs.Job) -> list[HandWritten]:
    """The body of the seed's loop (``single_neuron.manual_train``), line by line."""
    from models.single_neuron import X, y

    weights = job.model.state_dict()["0.weight"]
    output = 1 / (1 + exp(-dot(X, weights)))
    error = y - output
    slope = output * (1 - output)
    delta = error * slope
    change = dot(X.T, delta)
    return [
        HandWritten("error = y - output", error, grad_of="1", sign=-1),
        HandWritten("delta = error * slope", delta, grad_of="0", sign=-1),
        HandWritten("dot(X.T, delta)", change, grad_of="0.weight", sign=-1),
        HandWritten("weights += dot(X.T, delta)", weights + change, update_of="0.weight"),
    ]


def _xor(job: jobs.Job) -> list[HandWritten]:
    """The seed's ``fp`` and ``bp`` (``models.xor_net``), run on the model's weights."""
    from models.xor_net import X, bp, fp, y

    state = job.model.state_dict()
    w0, w1 = state["0.weight"], state["2.weight"]
    l0 = X
    l1, l2 = fp(l0, w0, w1)
    l0_delta, l1_delta = bp(l1, l2, y, w1, job.lr)
    w1_change, w0_change = dot(l1.T, l1_delta), dot(l0.T, l0_delta)
    return [
        HandWritten("l2_error = y - l2", y - l2, grad_of="3", sign=-1),
        HandWritten("l1_delta = l2_error * l2_slope * lr", l1_delta, grad_of="2", sign=-1),
        HandWritten("dot(l1.T, l1_delta)", w1_change, grad_of="2.weight", sign=-1),
        HandWritten("l0_delta = l1_error * l1_slope * lr", l0_delta, grad_of="0", sign=-1),
        HandWritten("dot(l0.T, l0_delta)", w0_change, grad_of="0.weight", sign=-1),
        HandWritten("w1 += dot(l1.T, l1_delta)", w1 + w1_change, update_of="2.weight"),
        HandWritten("w0 += dot(l0.T, l0_delta)", w0 + w0_change, update_of="0.weight"),
    ]


def size(explanation: tl.viz.Explanation) -> int:
    """The page's size in bytes, as written (UTF-8)."""
    return len(explanation.html().encode("utf-8"))


__all__ = ["hand_written", "page", "size", "np"]
