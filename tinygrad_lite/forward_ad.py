"""Forward mode: dual tensors, whose tangents travel forward with their values, op by op.

A dual number ``x + x_t*eps``, with ``eps*eps = 0``, carries a value and a derivative
together: ``(x + x_t*eps) * (y + y_t*eps) = x*y + (x_t*y + x*y_t)*eps``, and the part in eps
is the derivative of the product in the direction ``(x_t, y_t)``. A dual tensor is a Tensor
with a tangent beside its value. As each op runs, it computes its output's tangent from its
inputs' tangents with its jvp rule, so a derivative comes out of the forward pass itself:
no graph is kept and no backward pass runs.

>>> import tinygrad_lite as tl
>>> from tinygrad_lite import Tensor, forward_ad as fwAD
>>> x = Tensor([1.0, 2.0, 3.0])
>>> with fwAD.dual_level():
...     dual = fwAD.make_dual(x, Tensor([1.0, 0.0, 0.0]))  # the direction of x[0]
...     y = (dual * dual).sum()
...     y
...     fwAD.unpack_dual(y).tangent                         # d/dx[0] of sum(x*x) = 2*x[0]
Tensor(14., tangent=2.)
Tensor(2.)

The names are those of ``torch.autograd.forward_ad``. A level holds the tangents, not the
tensors: ``make_dual`` returns a new tensor (the primal stays as it was), and when the level
ends, its tangents end with it. Unlike PyTorch's, levels nest, and each keeps its own
tangents: a level's jvp rules run as Tensor ops that the levels outside it differentiate in
turn, while the level itself and those inside it do not see them. That is what keeps
``d/dx [x * d/dy (x + y)]`` at 1 rather than 2 (the "perturbation confusion" of forward-mode
libraries that give every level the same eps).
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lite.grad_mode import Observer, _mode, fp_quiet
from tinygrad_lite.tensor import Tensor

ACCEPTED_TANGENT = "a Tensor, a numpy array, a (nested) list or a number"


class dual_level(Observer):  # noqa: N801 (a context manager, named like PyTorch's)
    """A level of forward mode, active inside its ``with`` block (in the thread that enters
    it); ``with`` gives the level itself.

    Inside the block, ``make_dual`` gives a tensor a tangent at this level, and every op
    with an input that has one gives its output one too (:meth:`forward`). ``tangents``
    maps each such tensor to its tangent (a Tensor of its shape and dtype); it holds them
    weakly, so a tensor's tangent lives as long as the tensor, or until the level ends.

    A level is an Observer: ``Function.apply`` tells it of every op, as it tells the study
    tools. The active levels come first among the observers, outermost first, so that an
    outer level has given an op's output its tangent before an inner level's rule, which
    may use that output, runs.
    """

    def __init__(self) -> None:
        self.tangents: weakref.WeakKeyDictionary[Tensor, Tensor] = weakref.WeakKeyDictionary()
        self.outer: tuple[dual_level, ...] = ()  # the levels around this one, outermost first

    def __enter__(self) -> dual_level:
        if self._active:
            raise RuntimeError("dual_level: already active in a with block; use a new one")
        self._active = True
        self.outer = _mode.levels
        tools = tuple(o for o in _mode.observers if o not in self.outer)
        _mode.levels = (*self.outer, self)
        _mode.observers = (*_mode.levels, *tools)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not _mode.levels or _mode.levels[-1] is not self:
            raise RuntimeError(
                "dual_level: levels must end in the reverse order they began, in the thread "
                "that began them"
            )
        _mode.levels = self.outer
        _mode.observers = tuple(o for o in _mode.observers if o is not self)
        self.tangents = weakref.WeakKeyDictionary()  # its tangents end with it
        self._active = False

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        """Told of an op as it runs: if an input has a tangent, give the output its own.

        The forward-mode counterpart of one step of the backward pass (engine.py): where
        the engine asks the rule for the inputs' gradients given the output's, this asks it
        for the output's tangent given the inputs'.
        """
        tangents = tuple([self.tangents.get(x) for x in inputs])
        if tangents.count(None) < len(tangents):
            self.tangents[out] = self.jvp(fn, tangents, inputs, out)

    def jvp(self, fn: Any, tangents: tuple[Any, ...], inputs: tuple[Any, ...], out: Any) -> Tensor:
        """``fn``'s jvp rule, run for this level: watched by the levels outside it only, not
        by this level (its tangents are first derivatives, not tangents of tangents), nor by
        the study tools."""
        saved = _mode.levels, _mode.observers
        _mode.levels = _mode.observers = self.outer
        try:
            with fp_quiet():
                return run_jvp(fn, tangents, inputs, out)
        finally:
            _mode.levels, _mode.observers = saved


class recording_level(dual_level):  # noqa: N801 (a context manager, like dual_level)
    """A dual level that also writes down, in order, each op whose output got a tangent
    (``tape``), so that ``replay`` can run their jvp rules again for other tangents without
    running the forward pass again: ``tl.linearize`` and ``tl.jacfwd`` (one recorded pass,
    then one replay per column, as ``tl.jacrev`` records once and runs one backward pass per
    row). The tape holds the tensors it names, as a recorded graph does, and the grad mode
    each op ran in (the backward passes of ``tl.hessian``'s jacrev run under no_grad)."""

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[tuple[Any, tuple[Tensor, ...], Tensor, bool]] = []

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        tangents = tuple([self.tangents.get(x) for x in inputs])
        if tangents.count(None) < len(tangents):
            self.tangents[out] = self.jvp(fn, tangents, inputs, out)
            self.tape.append((fn, inputs, out, _mode.enabled))

    @fp_quiet()
    def replay(self, seeds: dict[Tensor, Tensor]) -> dict[Tensor, Tensor]:
        """The tangents the recorded ops give when the tensors of ``seeds`` have those
        tangents (and every other tensor none): each op's rule, in the recorded order and
        grad mode, watched by the levels active now (and by no study tool). Called once the
        level's block has ended, so that the levels active are those outside it."""
        tangents = dict(seeds)  # Tensors hash by identity
        saved = _mode.enabled, _mode.observers
        _mode.observers = _mode.levels
        try:
            for fn, inputs, out, recording in self.tape:
                given = tuple([tangents.get(x) for x in inputs])
                if given.count(None) < len(given):
                    _mode.enabled = recording
                    tangents[out] = run_jvp(fn, given, inputs, out)
        finally:
            _mode.enabled, _mode.observers = saved
        return tangents


def run_jvp(fn: Any, tangents: tuple[Any, ...], inputs: tuple[Any, ...], out: Any) -> Tensor:
    """Run ``fn``'s jvp rule and check what it returns (the caller chooses who watches)."""
    # Like a backward rule, the rule gets arrays, unless its own derivative is needed: by a
    # level outside its own, or by reverse mode (a recorded graph that an input or a
    # tangent is part of). Then it gets Tensors, so that its ops are differentiated.
    tensors = bool(_mode.levels)
    if not tensors and _mode.enabled:
        for x in (*inputs, *tangents):
            if x is not None and x.requires_grad:
                tensors = True
                break
    if tensors:
        out_t = fn.jvp(tangents, *inputs, out)
    else:
        arrays = tuple([None if t is None else t.data for t in tangents])
        out_t = fn.jvp(arrays, *[x.data for x in inputs], out.data)
    if not isinstance(out_t, Tensor):
        if out_t is None or not hasattr(out_t, "shape"):
            raise RuntimeError(
                f"{fn.name}: jvp returned {type(out_t).__name__} ({out_t!r:.40}); it must "
                f"return the output's tangent, an array (a Tensor under higher order) of the "
                f"output's shape"
            )
        out_t = Tensor._from_op(np.asanyarray(out_t))  # (a numpy scalar: a 0-d array)
    if out_t.data.shape != out.data.shape:
        raise RuntimeError(
            f"{fn.name}: jvp returned a tangent of shape {out_t.data.shape} for an output of "
            f"shape {out.data.shape}; a tangent must have its output's shape"
        )
    if out_t.data.dtype != out.data.dtype:
        # An output whose dtype was promoted (float32 + float64 is float64) gets a tangent in
        # that dtype, as in PyTorch, though a rule that passes an input's tangent on gives
        # it in the input's; the engine casts a gradient to its input's dtype the same way.
        # The cast is an op (astype), so that a level outside sees it.
        out_t = out_t.astype(out.data.dtype)
    return out_t


class UnpackedDual(NamedTuple):
    """What ``unpack_dual`` returns: the value, and the tangent (None if there is none)."""

    primal: Tensor
    tangent: Tensor | None


def make_dual(primal: Tensor, tangent: Any, *, level: dual_level | None = None) -> Tensor:
    """A new tensor with ``primal``'s value and ``tangent`` as its tangent at ``level``.

    ``level`` is the innermost active level (the default, and the only one accepted).
    ``tangent`` is a Tensor or an array of ``primal``'s shape and dtype, or a (nested) list
    or number, taken in the primal's dtype; it is copied. The new tensor keeps what
    ``primal`` has at the levels outside (their tangents) and in a recorded graph
    (gradients flow back to ``primal``); ``primal`` itself is not changed.
    """
    level = _innermost("make_dual", level)
    if not isinstance(primal, Tensor):
        raise TypeError(
            f"make_dual: the primal must be a Tensor, got {type(primal).__name__}; wrap "
            f"numbers and arrays with Tensor(...)"
        )
    tangent = as_tangent("make_dual", primal, tangent)
    dual = alias(primal, level.outer)
    level.tangents[dual] = alias(tangent, level.outer)
    return dual


def unpack_dual(tensor: Tensor, *, level: dual_level | None = None) -> UnpackedDual:
    """``(primal, tangent)``: ``tensor``'s value, and its tangent at ``level`` (the innermost
    active level by default, and the only one accepted).

    The primal is a new tensor without the tangent (it keeps what ``tensor`` has at the
    outer levels and in a recorded graph); the tangent is the Tensor the level holds. A
    tensor without a tangent, or any tensor when no level is active, gives
    ``(tensor, None)``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    if level is None and not _mode.levels:
        return UnpackedDual(tensor, None)
    level = _innermost("unpack_dual", level)
    tangent = level.tangents.get(tensor)
    if tangent is None:
        return UnpackedDual(tensor, None)
    return UnpackedDual(alias(tensor, level.outer), tangent)


# ---------------------------------------------------------------------------- helpers


def alias(t: Tensor, levels: tuple[dual_level, ...]) -> Tensor:
    """A new tensor with ``t``'s value, its place in a recorded graph, and its tangents at
    ``levels`` (and at no other level).

    Where there is something to keep, that is ``t.reshape(t.shape)`` run with only
    ``levels`` watching: a node of the graph (whose gradient flows back to ``t``) and the
    Reshape's jvp for the tangents. Otherwise a copy of the data.
    """
    if not (t.requires_grad and _mode.enabled) and not any(t in lv.tangents for lv in levels):
        return Tensor._from_op(np.array(t.data, subok=True))  # (a KeptArray stays one)
    saved = _mode.levels, _mode.observers
    _mode.levels = _mode.observers = levels
    try:
        return t.reshape(t.data.shape)  # a view in a recorded graph, a copy outside one
    finally:
        _mode.levels, _mode.observers = saved


def as_tangent(
    op: str, primal: Tensor, tangent: Any, what: str = "the tangent", owner: str = "its primal"
) -> Tensor:
    """``tangent`` as a Tensor of ``primal``'s shape and dtype, or a clear error.

    A Tensor or a float array must have the primal's dtype already; numbers, lists and
    arrays of ints are taken in it, as numbers are by the ops. ``what`` and ``owner`` name
    the two in errors ("cotangent 1", "output 1").
    """
    if isinstance(tangent, Tensor) or (
        isinstance(tangent, np.ndarray) and tangent.dtype.kind == "f"
    ):
        if tangent.dtype != primal.dtype:
            raise TypeError(
                f"{op}: {what} has dtype {tangent.dtype}, but {owner} has dtype "
                f"{primal.dtype}; they must be equal"
            )
        value = tangent if isinstance(tangent, Tensor) else Tensor._from_op(tangent)
    else:
        try:
            value = Tensor(tangent, dtype=primal.dtype)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"{op}: {what} is not usable: {error} (accepted: {ACCEPTED_TANGENT} of the "
                f"shape of {owner})"
            ) from None
    if value.shape != primal.shape:
        raise ValueError(
            f"{op}: {what} has shape {value.shape}, but {owner} has shape "
            f"{primal.shape}; they must be equal"
        )
    return value


def _innermost(op: str, level: Any) -> dual_level:
    """The innermost active level, checked against the ``level`` the caller asked for."""
    if not _mode.levels:
        raise RuntimeError(
            f"{op}: no dual level is active; call it inside `with tl.forward_ad.dual_level():`"
        )
    innermost: dual_level = _mode.levels[-1]
    if level is None or level is innermost:
        return innermost
    if not isinstance(level, dual_level):
        raise TypeError(f"{op}: level must be a dual_level, got {type(level).__name__}")
    if level in _mode.levels:
        raise ValueError(
            f"{op}: level is not the innermost active dual level; only the innermost one "
            f"is accepted (leave level out)"
        )
    raise RuntimeError(
        f"{op}: level is not active (its with block has ended, or it runs in another thread)"
    )
