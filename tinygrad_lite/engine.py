"""The backward pass: walk the graph from the output back to the leaves.

A Tensor made by an op remembers the op (``t._ctx``, a Function node) and the node
remembers its input Tensors. ``backward`` orders the Tensors so that each comes after
everything it was computed from, then visits them from the output back: it asks each
node's rule for the gradients of its inputs, checks them, and adds them up per Tensor.
Only this module adds gradients; the rules just return them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tinygrad_lite.mode import _mode, enable_grad, fp_quiet

if TYPE_CHECKING:
    from tinygrad_lite.tensor import Tensor

FREED = (
    "backward() through a graph that an earlier backward() already freed; pass "
    "retain_graph=True to the earlier call to backpropagate through the same graph again"
)


def toposort(root: Tensor) -> list[Tensor]:
    """The Tensors computed on the way to ``root`` (leaves left out), each after its inputs.

    An iterative depth-first search, so that a chain of any length needs no recursion: a
    Tensor goes into the order once every input it was computed from is in it.
    """
    order: list[Tensor] = []
    visited = {id(root)}
    stack = [(root, iter(_inputs(root)))]
    while stack:
        t, inputs = stack[-1]
        for x in inputs:
            if x._ctx is not None and id(x) not in visited:
                visited.add(id(x))
                stack.append((x, iter(_inputs(x))))
                break
        else:  # every input of t is in the order
            stack.pop()
            order.append(t)
    return order


def _inputs(t: Tensor) -> tuple[Tensor, ...]:
    inputs = t._ctx.inputs
    if inputs is None:
        raise RuntimeError(FREED)
    return inputs


def backward(
    root: Tensor, grad: Any, *, retain_graph: bool, create_graph: bool
) -> list[tuple[Tensor, Any]]:
    """The gradient of ``root`` with respect to each leaf behind it that requires grad.

    ``grad`` is the gradient of the output with respect to ``root`` itself (ones for a
    scalar loss). Returns (leaf, gradient) pairs; the caller decides where they go
    (``Tensor.backward`` adds them to ``.grad``, ``tl.grad`` returns them). Gradients are
    numpy arrays, or Tensors when ``create_graph`` records the backward pass itself.
    """
    if root._ctx is None:
        return [(root, grad)]
    order = toposort(root)
    grads: dict[int, Any] = {id(root): grad}  # gradient so far, per Tensor (by id)
    leaves: dict[int, Tensor] = {}
    with fp_quiet(), enable_grad() if create_graph else _nothing:
        for t in reversed(order):
            fn = t._ctx
            grad = grads.pop(id(t), None)
            if grad is not None:  # None: every rule that could reach t returned None
                for x, dx in zip(fn.inputs, _input_grads(fn, t, grad, create_graph)):
                    if dx is None or not x.requires_grad:
                        continue
                    # getattr: a rule that returns a number or a list gets this message too.
                    if getattr(dx, "shape", None) != x.data.shape:
                        raise RuntimeError(
                            f"{fn.name}: backward returned {_describe(dx)} for an input of "
                            f"shape {x.data.shape}; each gradient must be an array (a Tensor "
                            f"under create_graph) of its input's shape, or None"
                        )
                    key = id(x)
                    if key in grads:
                        grads[key] = grads[key] + dx
                    else:
                        grads[key] = dx
                        if x._ctx is None:
                            leaves[key] = x
            if not retain_graph:
                fn.inputs = None  # frees the graph behind t as soon as it is used
    return [(leaf, grads[key]) for key, leaf in leaves.items()]


def _input_grads(fn: Any, t: Tensor, grad: Any, create_graph: bool) -> tuple[Any, ...]:
    """Run the rule of ``fn`` (the op that made ``t``): one gradient per input."""
    inputs = fn.inputs
    for x, version in zip(inputs, fn.versions):
        if x._version != version:
            raise RuntimeError(
                f"{fn.name}: an input of shape {x.data.shape} was changed in place after the "
                f"forward pass used it (version {version}, now {x._version}), so its gradient "
                f"would be wrong; run backward() before changing it (an optimizer step, an "
                f"in-place method), or compute the forward pass again"
            )
    if create_graph:
        input_grads = fn.backward(grad, *inputs, t)
    else:
        input_grads = fn.backward(grad, *[x.data for x in inputs], t.data)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(inputs):
        raise RuntimeError(
            f"{fn.name}: backward returned {len(input_grads)} gradient(s) for "
            f"{len(inputs)} input(s); it must return one per input (None where there is none)"
        )
    if _mode.observers:
        for observer in _mode.observers:
            observer.backward(fn, grad, input_grads)
    return input_grads


def _describe(dx: Any) -> str:
    if hasattr(dx, "shape"):
        return f"a gradient of shape {tuple(dx.shape)}"
    return f"a {type(dx).__name__} ({dx!r:.40}) instead of an array"


class _Nothing:
    """A context manager that does nothing (contextlib.nullcontext, without the allocation)."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass


_nothing = _Nothing()
