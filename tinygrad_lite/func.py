"""Both modes as functions, with ``torch.func``'s names: jvp, vjp, linearize, jacfwd,
jacrev, hessian.

For ``f`` from R^n to R^m, with Jacobian J (m x n):

- ``jvp(f, (x,), (v,))`` is ``(f(x), J v)``: forward mode, one pass with dual tensors;
- ``vjp(f, x)`` is ``(f(x), vjp_fn)`` with ``vjp_fn(u) = (J^T u,)``: reverse mode, one
  forward pass, recorded, then one backward pass per call;
- ``linearize(f, x)`` is ``(f(x), jvp_fn)`` with ``jvp_fn(v) = J v``: forward mode, one
  pass with dual tensors, recorded, then one forward pass of the jvp rules alone per call;
- ``jacfwd(f)(x)`` is J, column by column: linearize, then n calls of ``jvp_fn``;
- ``jacrev(f)(x)`` is J, row by row: vjp, then m calls of ``vjp_fn``;
- ``hessian(f)(x)`` is ``jacfwd(jacrev(f))(x)``: forward mode over reverse mode.

>>> import tinygrad_lite as tl
>>> from tinygrad_lite import Tensor
>>> def f(x):
...     return (x ** 3).sum()
>>> x = Tensor([1.0, 2.0])
>>> tl.jvp(f, (x,), (Tensor([1.0, 0.0]),))          # d/dt f(x + t*(1, 0)) = 3 * x[0]**2
(Tensor(9.), Tensor(3.))
>>> out, vjp_fn = tl.vjp(f, x)
>>> vjp_fn(Tensor(1.0))                              # (grad f,), as a tuple
(Tensor([ 3., 12.]),)
>>> tl.jacfwd(lambda x: x ** 3)(x)                   # diag(3 * x**2)
Tensor([[ 3.,  0.],
        [ 0., 12.]])
>>> tl.hessian(f)(x)                                 # diag(6 * x)
Tensor([[ 6.,  0.],
        [ 0., 12.]])

As in ``torch.func``: ``argnums`` picks the argument (an int) or arguments (a tuple, and
then a tuple of results, one per argument); ``f`` may return a tuple of Tensors (then a tuple
of results, one per output, each as above); with ``has_aux=True``, ``f`` returns
``(output, aux)`` and ``aux`` is handed back unchanged. The Jacobian of an output of shape
S with respect to an argument of shape A has shape S + A, zeros where the output does not
depend on the argument. Arguments may be Tensors, floats, or lists and arrays of floats.

The results are Tensors of their own. Everything composes: each function may be applied to
the others and to ``tl.grad``, in any order, since forward mode's rules run on Tensors that
an outer transform differentiates, and reverse mode records its backward pass when an outer
one asks for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lite import engine, ops
from tinygrad_lite.autograd import _as_tensor, _check_argnums, _uses_other_tensors, fresh_leaf
from tinygrad_lite.forward_ad import as_tangent, dual_level, make_dual, recording_level
from tinygrad_lite.grad_mode import _mode, enable_grad, is_dual, is_grad_enabled
from tinygrad_lite.tensor import Tensor


def jvp(
    func: Callable[..., Any], primals: Any, tangents: Any, *, has_aux: bool = False
) -> tuple[Any, ...]:
    """``(func(*primals), J v)``: the output and its tangent along ``tangents``, in one
    forward pass with dual tensors (forward mode).

    ``primals`` and ``tangents`` are tuples of one length, each tangent of its primal's
    shape and dtype. Returns ``(output, output_tangent)``, or ``(output, output_tangent,
    aux)`` with ``has_aux=True``; for a tuple of outputs, a tuple of tangents. An output
    that does not depend on the primals gets a zero tangent.
    """
    primals = _primals("jvp", primals)
    if not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"jvp: tangents must be a tuple (one per primal), got {type(tangents).__name__}"
        )
    if len(tangents) != len(primals):
        raise ValueError(
            f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one tangent "
            f"per primal"
        )
    checked = [
        as_tangent("jvp", p, t, f"tangent {i}", f"primal {i}")
        for i, (p, t) in enumerate(zip(primals, tangents))
    ]
    with dual_level() as level:
        result = func(*[make_dual(p, t) for p, t in zip(primals, checked)])
        out, aux = _split_aux("jvp", result, has_aux)
        outs = _outputs("jvp", out, has_aux)
        found = [level.tangents.get(o) for o in outs]
    # The level has ended: the outputs keep no tangent at it (nor do the tangents).
    out_tangents = [_tangent_of_own(o, t) for o, t in zip(outs, found)]
    out_tangent = _like(out, out_tangents)
    return (out, out_tangent, aux) if has_aux else (out, out_tangent)


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(func(*primals), vjp_fn)``, where ``vjp_fn(cotangent)`` is ``J^T u``: one gradient
    per primal, as a tuple (reverse mode).

    ``func`` runs once, recorded; each call of ``vjp_fn`` is one backward pass through that
    graph (it is kept while ``vjp_fn`` lives). The cotangent has the output's shape and
    dtype (a tuple of them for a tuple of outputs). With ``has_aux=True``, returns
    ``(output, vjp_fn, aux)``.
    """
    pullback = _Pullback("vjp", func, _primals("vjp", primals), has_aux)

    def vjp_fn(cotangents: Any) -> tuple[Tensor, ...]:
        outs = pullback.outs
        if isinstance(pullback.out, Tensor):
            cotangents = (cotangents,)
        elif not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(outs):
            raise ValueError(
                f"vjp: func returned {len(outs)} outputs, so vjp_fn takes a tuple of "
                f"{len(outs)} cotangents (one per output), got {_describe(cotangents)}"
            )
        checked = [
            as_tangent("vjp", o, c, f"cotangent {i}", f"output {i}")
            for i, (o, c) in enumerate(zip(outs, cotangents))
        ]
        total: list[Any] = [None] * len(pullback.leaves)
        for k, u in enumerate(checked):
            for i, g in enumerate(pullback.gradients(k, u)):
                if g is not None:
                    total[i] = g if total[i] is None else total[i] + g
        return tuple(_as_tensor(g, leaf) for g, leaf in zip(total, pullback.leaves))

    if has_aux:
        return pullback.out, vjp_fn, pullback.aux
    return pullback.out, vjp_fn


def jacrev(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False
) -> Callable[..., Any]:
    """The function that returns the Jacobian of ``func`` by reverse mode: one forward pass,
    then one backward pass per output element (a row of the Jacobian each)."""
    positions = _check_argnums(argnums, "jacrev")

    @functools.wraps(func)
    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        _check_positions("jacrev", positions, args)
        chosen = _primals("jacrev", tuple(args[i] for i in positions))

        def g(*xs: Any) -> Any:
            return func(*_substituted(args, positions, xs), **kwargs)

        pullback = _Pullback("jacrev", g, chosen, has_aux)
        jacobians = []
        for k, o in enumerate(pullback.outs):
            rows: list[list[Tensor]] = [[] for _ in chosen]
            for j in range(o.size):
                seed = np.zeros(o.shape, dtype=o.dtype)
                seed.flat[j] = 1
                grads = pullback.gradients(k, Tensor._from_op(seed))
                for row, g_j, leaf in zip(rows, grads, pullback.leaves):
                    row.append(_as_tensor(g_j, leaf))
            blocks = [
                _stack(row, o.shape + leaf.shape, last=False, dtype=leaf.dtype)
                for row, leaf in zip(rows, pullback.leaves)
            ]
            jacobians.append(blocks[0] if isinstance(argnums, int) else tuple(blocks))
        jacobian = _like(pullback.out, jacobians)
        return (jacobian, pullback.aux) if has_aux else jacobian

    return jacrev_f


def linearize(func: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(func(*primals), jvp_fn)``, where ``jvp_fn(*tangents)`` is ``J v``, the output's
    tangent along ``tangents`` (one per primal), as ``torch.func.linearize``.

    ``func`` runs once, with dual tensors, and the ops their tangents pass through are
    written down; each call of ``jvp_fn`` runs those ops' jvp rules alone, without ``func``
    (which must not choose its ops by the tangents' values). The record is kept while
    ``jvp_fn`` lives, as ``vjp`` keeps its graph.
    """
    linear = _Linearized("linearize", func, _primals("linearize", primals), aux=False)

    def jvp_fn(*tangents: Any) -> Any:
        if len(tangents) != len(linear.duals):
            raise ValueError(
                f"linearize: jvp_fn takes {len(linear.duals)} tangent(s), one per primal, got "
                f"{len(tangents)}"
            )
        checked = [
            as_tangent("linearize", d, t, f"tangent {i}", f"primal {i}")
            for i, (d, t) in enumerate(zip(linear.duals, tangents))
        ]
        return _like(linear.out, linear.tangents(dict(zip(linear.duals, checked))))

    return linear.out, jvp_fn


def jacfwd(
    func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False
) -> Callable[..., Any]:
    """The function that returns the Jacobian of ``func`` by forward mode: ``func`` runs
    once with dual tensors (``linearize``), then the jvp rules run once per input element,
    each giving a column of the Jacobian."""
    positions = _check_argnums(argnums, "jacfwd")

    @functools.wraps(func)
    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        _check_positions("jacfwd", positions, args)
        chosen = _primals("jacfwd", tuple(args[i] for i in positions))

        def g(*xs: Any) -> Any:
            return func(*_substituted(args, positions, xs), **kwargs)

        linear = _Linearized("jacfwd", g, chosen, has_aux)
        jacobians: list[list[Tensor]] = [[] for _ in linear.outs]  # [output][argument]
        for dual, x in zip(linear.duals, chosen):
            columns = []  # [element][output]
            for k in range(x.size):
                direction = np.zeros(x.shape, dtype=x.dtype)
                direction.flat[k] = 1
                columns.append(linear.tangents({dual: Tensor._from_op(direction)}))
            for o, out in enumerate(linear.outs):
                parts = [column[o] for column in columns]
                block = _stack(parts, out.shape + x.shape, last=True, dtype=out.dtype)
                jacobians[o].append(block)
        blocks = [b[0] if isinstance(argnums, int) else tuple(b) for b in jacobians]
        jacobian = _like(linear.out, blocks)
        return (jacobian, linear.aux) if has_aux else jacobian

    return jacfwd_f


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The function that returns the Hessian of ``func``: ``jacfwd(jacrev(func))``, forward
    mode over reverse mode, as ``torch.func.hessian``.

    For ``func`` returning a Tensor of shape S, and an argument of shape A, the result has
    shape S + A + A. Each of the n forward passes runs one backward pass with dual tensors,
    whose tangents give a column of the Hessian.
    """
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------------------- helpers


class _Linearized:
    """``func`` run once with dual tensors on a recording level, to push tangents forward
    through (linearize, jacfwd): the forward-mode counterpart of ``_Pullback``."""

    def __init__(self, op: str, func: Callable[..., Any], primals: tuple[Tensor, ...], aux: bool):
        self.level = recording_level()
        with self.level:
            # The recorded pass's own tangents (zeros) are not used: only its record.
            self.duals = [make_dual(p, np.zeros_like(p.data)) for p in primals]
            self.out, self.aux = _split_aux(op, func(*self.duals), aux)
            self.outs = _outputs(op, self.out, aux)

    def tangents(self, seeds: dict[Tensor, Tensor]) -> list[Tensor]:
        """The outputs' tangents when the duals have the tangents ``seeds`` (zeros for a
        dual left out), each a Tensor of its own."""
        found = self.level.replay(seeds)
        return [_tangent_of_own(o, found.get(o)) for o in self.outs]


class _Pullback:
    """``func`` run once on fresh leaves and recorded, to be pulled back from (vjp, jacrev).

    A primal that is part of a computation the caller records enters as a recorded copy
    (as in ``tl.grad``), a variable of its own that the backward passes stop at, computed or
    not: then, and when ``func`` uses another tensor of such a computation, the backward
    passes are recorded too, so that what they give can be differentiated again.
    """

    def __init__(self, op: str, func: Callable[..., Any], primals: tuple[Tensor, ...], aux: bool):
        recording = is_grad_enabled()
        nested = False
        self.leaves: list[Tensor] = []
        for p in primals:
            if p.requires_grad and recording:
                # a recorded copy: a variable of its own, which the backward passes stop at
                nested = True
                self.leaves.append(p.astype(p.data.dtype))
            else:
                self.leaves.append(fresh_leaf(p))
        with enable_grad():
            result = func(*self.leaves)
        self.out, self.aux = _split_aux(op, result, aux)
        self.outs = _outputs(op, self.out, aux)
        own = {id(leaf) for leaf in self.leaves}
        shared = nested or any(o.requires_grad and _uses_other_tensors(o, own) for o in self.outs)
        self.create_graph = shared and recording

    def gradients(self, k: int, seed: Tensor) -> list[Any]:
        """The gradient of <seed, output k> with respect to each leaf (None for none)."""
        out = self.outs[k]
        if not out.requires_grad:
            return [None] * len(self.leaves)
        create_graph = self.create_graph or (seed.requires_grad and is_grad_enabled())
        # A seed that is dual or recorded goes in as the Tensor it is; otherwise as its array.
        as_tensor = create_graph or (_mode.levels and is_dual(seed))
        found = {}
        for leaf, g in engine.backward(
            out,
            seed if as_tensor else seed.data,
            retain_graph=True,
            create_graph=create_graph,
            inputs=tuple(self.leaves),
        ):
            found[id(leaf)] = g
        return [found.get(id(leaf)) for leaf in self.leaves]


def _primals(op: str, primals: Any) -> tuple[Tensor, ...]:
    """The primals as Tensors: floating-point values only (forward mode needs them)."""
    if not isinstance(primals, (tuple, list)):
        raise TypeError(
            f"{op}: primals must be a tuple (one value per argument of func), got "
            f"{type(primals).__name__}"
        )
    checked = []
    for i, p in enumerate(primals):
        if not isinstance(p, Tensor):
            kind = np.asarray(p).dtype.kind if _is_numeric(p) else None
            if kind in ("b", "i", "u"):
                raise TypeError(
                    f"{op}: primal {i} holds {'bools' if kind == 'b' else 'ints'} "
                    f"({p!r:.40}); derivatives need floating-point values: pass floats, "
                    f"a float array or a Tensor"
                )
            try:
                p = Tensor(p)
            except (TypeError, ValueError) as error:
                raise type(error)(f"{op}: primal {i} is not usable: {error}") from None
        checked.append(p)
    return tuple(checked)


def _is_numeric(value: Any) -> bool:
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def _split_aux(op: str, result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(
            f"{op}: with has_aux=True, func must return a pair (output, aux), got "
            f"{_describe(result)}"
        )
    return result[0], result[1]


def _outputs(op: str, out: Any, has_aux: bool) -> tuple[Tensor, ...]:
    """func's output as a tuple of Tensors: one Tensor, or a tuple or list of them."""
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return tuple(out)
    what = "output" if has_aux else "func"
    raise TypeError(
        f"{op}: {what} must be a Tensor or a tuple of Tensors, got {_describe(out)}"
        + ("" if has_aux else " (return (output, aux) with has_aux=True to return more)")
    )


def _like(out: Any, values: list[Any]) -> Any:
    """``values`` (one per output) in the form of ``out``: alone, or as a tuple or list."""
    return values[0] if isinstance(out, Tensor) else type(out)(values)


def _tangent_of(out: Tensor, tangent: Tensor | None) -> Tensor:
    """An output's tangent at a level that has ended; zeros for an output without one."""
    if tangent is None:
        return Tensor._from_op(np.zeros_like(out.data))
    return tangent


def _tangent_of_own(out: Tensor, tangent: Tensor | None) -> Tensor:
    """As ``_tangent_of``, in an array of its own when it is neither recorded nor dual (a
    rule may hand one tangent to several outputs: add does)."""
    tangent = _tangent_of(out, tangent)
    if tangent._ctx is None and not is_dual(tangent):
        return Tensor._from_op(np.array(tangent.data, subok=True))
    return tangent


def _stack(parts: list[Tensor], shape: tuple[int, ...], last: bool, dtype: Any) -> Tensor:
    """The parts (Tensors of one shape) stacked along a new first axis, or last axis when
    ``last``, and reshaped to ``shape``; zeros of ``dtype`` (the parts' when there are
    some) when there are none.

    With numpy when the parts are plain values; with ops (each part scattered into its
    place by IndexAdd, then added up) when one is recorded or dual, so that the result
    can be differentiated again (``hessian`` is ``jacfwd`` of ``jacrev``).
    """
    if not any(p.requires_grad or is_dual(p) for p in parts):
        if not parts:
            return Tensor._from_op(np.zeros(shape, dtype=dtype))
        stacked = np.stack([p.data for p in parts], axis=-1 if last else 0)
        return Tensor._from_op(stacked.reshape(shape))
    n, part_shape = len(parts), parts[0].shape
    total = ops.IndexAdd.apply(parts[0], index=0, shape=(n, *part_shape))
    for k in range(1, n):
        total = total + ops.IndexAdd.apply(parts[k], index=k, shape=(n, *part_shape))
    if last:
        total = total.permute(*range(1, len(part_shape) + 1), 0)
    return total.reshape(*shape)


def _substituted(args: tuple[Any, ...], positions: tuple[int, ...], values: Any) -> list[Any]:
    args_list = list(args)
    for i, value in zip(positions, values):
        args_list[i] = value
    return args_list


def _check_positions(op: str, positions: tuple[int, ...], args: tuple[Any, ...]) -> None:
    for i in positions:
        if i >= len(args):
            raise TypeError(f"{op}: argnums asks for argument {i}, but only {len(args)} were given")


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__
