"""The backward pass: walk the graph from the output back to the leaves.

A Tensor made by an op remembers the op (``t._ctx``, a Function node) and the node
remembers its input Tensors. ``backward`` visits the Tensors from the output back, each
only once every Tensor computed from it has been visited, so that its gradient is complete:
it asks the node's rule for the gradients of the inputs and adds them up per Tensor. Only
this module adds gradients; the rules just return them.

The textbook walk sorts the graph first (``graph``, a topological order) and then visits it
reversed. This one needs no sort: the Tensors to visit wait in a heap, the one whose node
was made last on top, and nodes are numbered in the order they were made (``Function.seq``),
so every Tensor computed from it is already done when a Tensor comes off (docs/internals.md
shows both, and a test holds them to the same gradients). ``graph`` serves the pictures.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_lite.grad_mode import _mode, enable_grad, fp_quiet, no_grad

if TYPE_CHECKING:
    from tinygrad_lite.tensor import Tensor

FREED = (
    "backward() through a graph that an earlier backward() already freed; pass "
    "retain_graph=True to the earlier call to backpropagate through the same graph again"
)


def graph(root: Tensor) -> list[Tensor]:
    """Every Tensor behind ``root``, leaves included, each after its inputs.

    An iterative depth-first search that visits inputs in order, so the order is the same
    for the same computation (graph pictures number their nodes by it) and no chain is too
    long for it (a recursive walk would hit Python's limit near 1 000 ops).
    """
    order: list[Tensor] = []
    visited = {root}  # Tensors hash by identity (they define no ==)
    stack = [(root, iter(_inputs(root)))]
    while stack:
        t, inputs = stack[-1]
        for x in inputs:
            if x not in visited:
                visited.add(x)
                stack.append((x, iter(_inputs(x))))
                break
        else:  # every input of t is in the order
            stack.pop()
            order.append(t)
    return order


def _inputs(t: Tensor) -> tuple[Tensor, ...]:
    if t._ctx is None:
        return ()
    if t._ctx.inputs is None:
        raise RuntimeError(FREED)
    return t._ctx.inputs


@fp_quiet()
def backward(
    root: Tensor,
    grad: Any,
    *,
    retain_graph: bool,
    create_graph: bool,
    inputs: tuple[Tensor, ...] = (),
) -> list[tuple[Tensor, Any]]:
    """The gradient of ``root`` with respect to each leaf behind it that requires grad.

    ``grad`` is the gradient of the output with respect to ``root`` itself (ones for a
    scalar loss). Returns (leaf, gradient) pairs; the caller decides where they go
    (``Tensor.backward`` adds them to ``.grad``, ``tl.grad`` returns them). Gradients are
    numpy arrays, or Tensors when ``create_graph`` records the backward pass itself, or
    when forward mode watches (a dual level is active): then the rules run on Tensors,
    recording nothing, so that the levels see their ops and give the gradients tangents
    (forward over reverse, as in ``tl.hessian``). Each is in the dtype of its tensor.

    ``inputs``: tensors to stop at, computed ones too (``tl.grad``'s arguments). Their
    gradients are returned instead of the leaves', and nothing flows past them.
    """
    if root._ctx is None or root in inputs:
        return [(root, grad)]
    if create_graph:
        with enable_grad():  # the rules' operations on Tensors are recorded
            grads = _gradients(root, grad, retain_graph, True, inputs)
    elif _mode.levels:
        if not isinstance(grad, type(root)):
            grad = type(root)._from_op(np.asanyarray(grad))
        with no_grad():  # the levels watch the rules' operations; nothing is recorded
            grads = _gradients(root, grad, retain_graph, True, inputs)
    else:
        grads = _gradients(root, grad, retain_graph, False, inputs)
    if inputs:
        grads = {x: grads[x] for x in inputs if x in grads}
    if create_graph or _mode.levels:
        return list(grads.items())
    return _owned(grads)


def _gradients(
    root: Tensor, grad: Any, retain_graph: bool, tensors: bool, stop: tuple[Tensor, ...]
) -> dict[Tensor, Any]:
    """The walk: the gradient of each leaf behind ``root`` (and of each tensor in
    ``stop``), by Tensor."""
    grads = {root: grad}  # the gradient so far, per Tensor
    waiting = [(-root._ctx.seq, root)]  # a heap: the node made last on top
    while waiting:
        t = heappop(waiting)[1]  # every Tensor computed from t is done: its grad is complete
        fn = t._ctx
        input_grads = _run_rule(fn, grads.pop(t), t, tensors)
        for x, dx in zip(fn.inputs, input_grads):
            if dx is None or not x.requires_grad:
                continue
            if getattr(dx, "shape", None) != x.data.shape or dx.dtype is not x.data.dtype:
                # (dtypes compared by identity: numpy's are one object per dtype; another
                # object of the same dtype only costs _fit's copy)
                dx = _fit(fn, x, dx)  # another shape is an error, another dtype is cast
            if x in grads:
                grads[x] = grads[x] + dx  # x was used more than once: its gradients add up
            else:
                grads[x] = dx
                if x._ctx is not None and x not in stop:  # a leaf has nothing to visit
                    heappush(waiting, (-x._ctx.seq, x))  # (seqs are unique: no ties)
        if not retain_graph:
            fn.inputs = None  # frees the graph behind t as soon as it is used
    return grads  # every Tensor visited was popped: what is left are the leaves


def _run_rule(fn: Any, grad: Any, out: Tensor, tensors: bool) -> tuple[Any, ...]:
    """The gradients of ``fn``'s inputs, one per input, from its backward rule.

    First the inputs ``fn`` saved are checked: still there (not freed) and unchanged (an
    input changed in place since has a version later than the node, see the clock). The
    rule runs on their arrays, or on the Tensors themselves (to be recorded, or watched by
    forward mode); the observers see the step.
    """
    inputs = fn.inputs
    if inputs is None:
        raise RuntimeError(FREED)
    for x in inputs:
        if x._version > fn.seq:
            raise _changed_in_place(fn, x)
    if tensors:
        input_grads = fn.backward(grad, *inputs, out)
    else:
        input_grads = fn.backward(grad, *[x.data for x in inputs], out.data)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(inputs):
        raise RuntimeError(
            f"{fn.name}: backward returned {len(input_grads)} gradient(s) for "
            f"{len(inputs)} input(s); it must return one per input (None where there "
            f"is none)"
        )
    if _mode.observers:
        for observer in _mode.observers:
            observer.backward(fn, grad, input_grads)
    return input_grads


def _owned(grads: dict[Tensor, Any]) -> list[tuple[Tensor, Any]]:
    """The leaves' gradients, each in an array of its own, so that an in-place change to one
    (a ``.grad`` scaled for clipping) reaches no other.

    A rule may hand one array to several inputs (add gives grad to both), or return a view
    (reshape), a numpy scalar or something else array-like: those are copied into arrays.
    An array that a rule made and handed to this leaf alone is passed on as it is, which
    saves a copy of every weight's gradient per step (a rule does not keep the arrays it
    returns: see ``Function``).
    """
    owned = []
    handed_out = set()
    for leaf, g in grads.items():
        if (
            type(g) is not np.ndarray
            or g.base is not None
            or not g.flags.writeable
            or id(g) in handed_out
        ):
            g = np.array(g, subok=True)  # (a KeptArray stays one)
        handed_out.add(id(g))
        owned.append((leaf, g))
    return owned


def _fit(fn: Any, x: Tensor, dx: Any) -> Any:
    """``dx`` checked to have its input's shape (naming the op if not), and cast to its
    input's dtype: a float32 input gets a float32 gradient from float64 arithmetic, and a
    float64 input a float64 one (PyTorch's rule). The cast is an op (``astype``, which
    arrays and Tensors share), so that it is recorded under create_graph."""
    if getattr(dx, "shape", None) != x.data.shape or not hasattr(dx, "astype"):
        raise _wrong_shape(fn, x, dx)
    return dx.astype(x.data.dtype)


def _changed_in_place(fn: Any, x: Tensor) -> RuntimeError:
    """The error for a rule whose input ``x`` was changed in place since the forward pass."""
    return RuntimeError(
        f"{fn.name}: an input of shape {x.data.shape} was changed in place after the "
        f"forward pass used it, so its gradient would be wrong; run backward() before "
        f"changing it (an optimizer step, an in-place method), or compute the forward pass "
        f"again"
    )


def _wrong_shape(fn: Any, x: Tensor, dx: Any) -> RuntimeError:
    """The error for a rule that returned ``dx``, not of its input ``x``'s shape (or not an
    array: a number or a list gets this message too)."""
    if hasattr(dx, "shape"):
        what = f"a gradient of shape {tuple(dx.shape)}"
    else:
        what = f"a {type(dx).__name__} ({dx!r:.40}) instead of an array"
    return RuntimeError(
        f"{fn.name}: backward returned {what} for an input of shape {x.data.shape}; each "
        f"gradient must be an array (a Tensor under create_graph) of its input's shape, or None"
    )
