"""The functional API: ``grad(f)`` is the function that returns f's gradient.

>>> import tinygrad_lite as tl
>>> df = tl.grad(lambda x: (x**3).sum())
>>> df(tl.Tensor([1.0, 2.0]))
Tensor([ 3., 12.])
>>> tl.grad(tl.grad(lambda x: x**3))(tl.Tensor(2.0))   # d2/dx2 x**3 = 6x
Tensor(12.)

Unlike ``Tensor.backward``, these touch no ``.grad``: the gradients are returned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lite import engine
from tinygrad_lite.forward_ad import alias
from tinygrad_lite.grad_mode import _mode, enable_grad, is_dual, is_grad_enabled
from tinygrad_lite.tensor import Tensor


def value_and_grad(
    f: Callable[..., Tensor], argnums: int | tuple[int, ...] = 0
) -> Callable[..., Any]:
    """A function returning ``(f(*args), gradient)``; see ``grad``."""
    positions = _check_argnums(argnums)

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Tensor, Any]:
        for i in positions:
            if i >= len(args):
                raise TypeError(
                    f"grad: argnums asks for argument {i}, but only {len(args)} were given"
                )
        args_list = list(args)
        # Inside f each argument is a variable of its own (torch.func.grad's rule). One that
        # is part of a computation the caller records (an outer grad's argument, a tensor
        # the caller is differentiating, computed or not) enters as a recorded copy, whose
        # gradient the backward pass stops at; it is recorded, so that the outer computation
        # can differentiate the gradient again. Anything else becomes a fresh leaf. Either
        # way no caller's .grad is touched.
        recording = is_grad_enabled()  # the caller's mode; f itself runs with grad enabled
        nested = False
        for i in positions:
            a = args[i]
            if isinstance(a, Tensor) and a.requires_grad and recording:
                nested = True
                args_list[i] = a.astype(a.data.dtype)
            else:
                args_list[i] = fresh_leaf(a)
        with enable_grad():
            out = f(*args_list, **kwargs)
        if not isinstance(out, Tensor) or out.size != 1:
            got = (
                f"a Tensor of shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
            )
            raise TypeError(f"grad: f must return a Tensor of one element, got {got}")
        leaves = tuple(args_list[i] for i in positions)
        found: dict[int, Any] = {}
        if out.requires_grad:
            # f may also have used tensors of a computation the caller records: another
            # argument (grad(grad(f, argnums=0), argnums=1)) or one it closes over. The
            # backward then keeps that computation's graph, and records itself when the
            # caller records, so that the gradient can be differentiated with respect to them.
            shared = nested or _uses_other_tensors(out, {id(leaf) for leaf in leaves})
            create_graph = shared and recording
            seed: Any = np.ones_like(out.data)
            if create_graph:
                seed = Tensor._from_op(seed)
            for leaf, g in engine.backward(
                out, seed, retain_graph=shared, create_graph=create_graph, inputs=leaves
            ):
                found[id(leaf)] = g
        grads = tuple(_as_tensor(found.get(id(leaf)), leaf) for leaf in leaves)
        return out, grads[0] if isinstance(argnums, int) else grads

    return value_and_grad_f


def grad(f: Callable[..., Tensor], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The function that returns the gradient of ``f`` at its arguments.

    ``f`` returns a Tensor of one element. ``argnums`` picks the argument (an int) or
    arguments (a tuple) to differentiate with respect to; the result is one Tensor or a
    tuple of them. Numbers, lists and arrays are accepted as arguments. Calls nest:
    ``grad(grad(f))`` is the second derivative.
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def fresh_leaf(value: Any) -> Tensor:
    """``value`` (a Tensor, number, list or array) as a new leaf that requires grad.

    A dual tensor keeps its tangents (forward over reverse: ``jvp`` of a gradient).
    """
    if isinstance(value, Tensor) and _mode.levels and is_dual(value):
        leaf = alias(value, _mode.levels)  # not recorded: value does not require grad here
        leaf.requires_grad = True
        return leaf
    return Tensor(value.data if isinstance(value, Tensor) else value, requires_grad=True)


def _uses_other_tensors(out: Tensor, own: set[int]) -> bool:
    """Whether ``out`` was computed from a tensor that requires grad, other than ``own``."""
    # Every tensor that requires grad comes from a leaf that does: checking the leaves
    # finds them all.
    return any(x._ctx is None and x.requires_grad and id(x) not in own for x in engine.graph(out))


def _check_argnums(argnums: Any, op: str = "grad") -> tuple[int, ...]:
    positions = argnums if isinstance(argnums, tuple) else (argnums,)
    if not positions or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in positions
    ):
        raise TypeError(f"{op}: argnums must be an int >= 0 or a tuple of them, got {argnums!r}")
    return positions


def _as_tensor(g: Any, leaf: Tensor) -> Tensor:
    """A gradient as a Tensor of its own; zeros where f does not depend on the argument.

    Arrays come from the engine already owned (``engine._owned``), or are new sums of them
    (``vjp``'s, over outputs), where two 0-d arrays add up to a numpy scalar: made a 0-d
    array, as every result's data is (``Function.apply``). Tensors, under nested
    calls or in forward mode, come as the rules made them, and a rule may give one to
    several inputs (add does): one that is neither recorded nor dual, and so could be
    changed in place, is copied.
    """
    if g is None:
        return Tensor.zeros(*leaf.shape, dtype=leaf.dtype)
    if isinstance(g, Tensor):
        keep = g._ctx is not None or (_mode.levels and is_dual(g))
        return g if keep else Tensor._from_op(g.data.copy())
    return Tensor._from_op(np.asanyarray(g))
