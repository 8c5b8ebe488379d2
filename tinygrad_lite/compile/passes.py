"""Rewrites of a tape's calls that cannot change a single bit of what the step computes.

The eager step does work that only generality needs; each pass below removes some, and
each is exact for every input, not just the recorded one:

- common subexpressions: a call that repeats an earlier one on unchanged operands (the two
  halves of the gradient of ``d * d``) is done once;
- a call that returns an operand unchanged is dropped and the operand used instead:
  ``1.0 * x`` (``SGD(lr=1)``; multiplying by 1 is exact in IEEE), a copy neither side of
  which changes afterwards (the copy ``.grad`` takes of a gradient), a reshape to the same
  shape. The operand must have the result's memory layout, since a later reduction or
  matmul computes in memory order and would round otherwise;
- a captured constant whose elements are all equal, met by an elementwise ufunc, becomes
  a 0-d constant: numpy broadcasts it, and the same numbers meet;
- a broadcast written out (``Expand``: an empty array, then ``out[...] = x``) read only by
  elementwise ufuncs is left to numpy's broadcasting: those read ``x`` itself;
- calls whose results nothing uses (the gradient of a constant) are dead and go.

A draw from a random generator (dropout's mask) is none of these: each changes the
generator's state, so every one stays, in its place, even when nothing uses its values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_lite.compile.tape import Call, Scalar, Var


def vars_in(value: Any) -> Iterator[Var]:
    """Every Var inside an operand (a Var, or a tuple, list or dict holding some)."""
    if isinstance(value, Var):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from vars_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from vars_in(v)


def reads(call: Call) -> list[Var]:
    """The Vars a call reads (an in-place call also reads its target: it may write part)."""
    found = list(vars_in(call.args)) + list(vars_in(call.kwargs))
    if not call.creates:
        found.append(call.target)
    return found


def elementwise(call: Call) -> bool:
    """A ufunc applied element by element (not matmul, not a reduction)."""
    if call.kind != "ufunc":
        return False
    ufunc, method = call.op
    return method == "__call__" and ufunc.signature is None and not call.kwargs


def same_layout(a: Var, b: Var) -> bool:
    return a.shape == b.shape and a.array.strides == b.array.strides


def optimize(calls: list[Call], returned: list[Var], kept: list[Var]) -> Rewritten:
    """Run every pass over ``calls``. ``returned`` are made fresh at each call (so never
    replaced by another Var); ``kept`` (gradients the caller reads) and ``returned`` are
    what the program must compute, with every change to an input or a captured array."""
    rewritten = Rewritten(calls, returned)
    rewritten.common_subexpressions()
    rewritten.same_values()
    rewritten.fold_constants()
    rewritten.fuse_broadcasts()
    rewritten.eliminate_dead_calls([*returned, *kept])
    return rewritten


class Rewritten:
    """The calls after the passes: ``live()`` lists those left, ``resolve(var)`` says which
    Var now stands for one that was replaced."""

    def __init__(self, calls: list[Call], returned: list[Var]) -> None:
        self.calls = calls
        self.returned = returned
        self.alias: dict[Var, Var] = {}
        self.dead: set[int] = set()  # indices of the calls removed
        self.writes: dict[Var, list[int]] = {}  # memory (a root Var) -> calls changing it
        for i, call in enumerate(calls):
            if not call.creates:
                self.writes.setdefault(call.target.root, []).append(i)

    def live(self) -> list[Call]:
        return [call for i, call in enumerate(self.calls) if i not in self.dead]

    def resolve(self, var: Var) -> Var:
        while var in self.alias:
            var = self.alias[var]
        return var

    def replace(self, i: int, var: Var, by: Var) -> None:
        """The i-th call, which made ``var``, goes; ``by`` stands for var from now on."""
        self.alias[var] = by
        self.dead.add(i)
        _inherit_name(by, var)

    def _substitute(self, value: Any) -> Any:
        if isinstance(value, Var):
            return self.resolve(value)
        if isinstance(value, tuple):
            return tuple(self._substitute(v) for v in value)
        if isinstance(value, list):
            return [self._substitute(v) for v in value]
        return value

    def _rewrite(self, call: Call) -> None:
        call.args = self._substitute(call.args)
        call.kwargs = {k: self._substitute(v) for k, v in call.kwargs.items()}
        if not call.creates:
            call.target = self.resolve(call.target)

    def _fixed(self, var: Var, after: int = -1) -> bool:
        """Whether no call after the ``after``-th changes var's memory (-1: no call does)."""
        return all(w <= after for w in self.writes.get(var.root, []))

    def _replaceable(self, var: Var) -> bool:
        """A result another Var may stand for: never changed, and not returned (a returned
        value is made fresh at each call)."""
        return var.kind in ("result", "view") and self._fixed(var) and var not in self.returned

    # ---------------------------------------------------------------- the passes

    def common_subexpressions(self) -> None:
        versions: dict[Var, int] = {}  # memory -> how many times it was changed so far
        seen: dict[Any, Var] = {}
        for i, call in enumerate(self.calls):
            self._rewrite(call)
            if not call.creates:
                root = call.target.root
                versions[root] = versions.get(root, 0) + 1
                continue
            if call.kind not in ("ufunc", "method", "view", "copy"):
                continue
            if not self._replaceable(call.target):
                continue
            key = (call.kind, _key(call.op), _key(call.args, versions), _key(call.kwargs))
            if key in seen:
                self.replace(i, call.target, seen[key])
            else:
                seen[key] = call.target

    def same_values(self) -> None:
        for i, call in enumerate(self.calls):
            if i in self.dead:
                continue
            self._rewrite(call)
            if call.creates and self._replaceable(call.target):
                same = self._same_value(i, call)
                if same is not None:
                    self.replace(i, call.target, same)

    def _same_value(self, i: int, call: Call) -> Var | None:
        """The operand the i-th call returns unchanged, if there is one (module docstring)."""
        target = call.target
        candidates: list[Any] = []
        if call.kind == "ufunc" and call.op[0] is np.multiply and elementwise(call):
            x, y = call.args
            candidates = [b for a, b in ((x, y), (y, x)) if _is_one(a)]
            candidates = [v for v in candidates if isinstance(v, Var) and v.dtype == target.dtype]
            candidates = [v for v in candidates if v.dtype.kind == "f"]
        elif (call.kind == "copy" and call.op is None) or (
            call.kind == "method" and call.op == "copy" and len(call.args) == 1
        ):
            candidates = [v for v in call.args if v.kind in ("result", "view")]
        elif call.kind == "view" and call.op in ("reshape", "transpose", "T", "mT"):
            candidates = [call.args[0]]
        for var in candidates:
            if same_layout(var, target) and self._fixed(var, after=i):
                return var
        return None

    def fold_constants(self) -> None:
        """A constant whose elements are all equal becomes a 0-d one, where it meets an
        elementwise ufunc whose other operands already have the result's shape."""
        for call in self.live():
            if not elementwise(call):
                continue
            args = list(call.args)
            for j, a in enumerate(args):
                if not isinstance(a, Var) or a.kind != "captured" or not self._fixed(a):
                    continue
                value = _uniform(a.array)
                others = [b.shape for b in args if isinstance(b, Var) and b is not a]
                if value is not None and _broadcast(others) == call.target.shape:
                    args[j] = Scalar(value, a.dtype)
            call.args = tuple(args)

    def fuse_broadcasts(self) -> None:
        """A broadcast (``np.broadcast_to(x, shape)``, or ``out = empty_like(...); out[...] =
        x``) read only by elementwise ufuncs that write a result of its shape: those read x,
        which numpy broadcasts to the same elements."""
        readers: dict[Var, list[int]] = {}
        for i, call in enumerate(self.calls):
            if i not in self.dead:
                for var in reads(call):
                    if call.creates or var is not call.target:
                        readers.setdefault(var, []).append(i)
        for i, call in enumerate(self.calls):
            if i in self.dead:
                continue
            if call.kind == "view" and call.op == "broadcast_to":
                made = [i]  # the calls that make the broadcast
                value = call.args[0]
            elif call.kind == "alloc" and call.op is None:
                filled = self.writes.get(call.target, [])
                fill = self.calls[filled[0]] if len(filled) == 1 else None
                if fill is None or fill.kind != "setitem" or fill.args[1] is not Ellipsis:
                    continue
                made = [i, filled[0]]
                value = fill.args[2]
            else:
                continue
            broadcast = call.target
            uses = [j for j in readers.get(broadcast, []) if j not in made]
            if not isinstance(value, Var) or not uses:
                continue
            # x must hold at each reader what it held when broadcast (a parameter is
            # updated in place, but after the forward pass has read it).
            if any(made[-1] < w <= max(uses) for w in self.writes.get(value.root, [])):
                continue
            if not all(self._reads_broadcast(self.calls[j], broadcast) for j in uses):
                continue
            for j in uses:
                reader = self.calls[j]
                reader.args = tuple(value if a is broadcast else a for a in reader.args)
            self.dead.update(made)

    def _reads_broadcast(self, call: Call, buffer: Var) -> bool:
        if not elementwise(call) or any(a is buffer for a in vars_in(call.kwargs)):
            return False
        if call.target not in self.returned:
            return True  # it writes into a buffer of its own shape (out=)
        others = [a.shape for a in call.args if isinstance(a, Var) and a is not buffer]
        return _broadcast(others) == call.target.shape

    def eliminate_dead_calls(self, outputs: list[Var]) -> None:
        """Keep the calls that make an output or what a kept call reads, and those that
        change an input or a captured array or draw from a generator (the step's effects)."""
        needed: set[Var] = set()

        def need(var: Var | None) -> None:  # a Var, and the Vars it is a view of
            while var is not None:
                needed.add(var)
                var = var.base

        for var in outputs:
            need(self.resolve(var))
        for i in reversed(range(len(self.calls))):
            if i in self.dead:
                continue
            call = self.calls[i]
            root = call.target.root
            if call.creates and call.target not in needed and call.kind != "draw":
                self.dead.add(i)
                continue
            if not call.creates and root not in needed and root.kind not in ("input", "captured"):
                self.dead.add(i)
                continue
            for var in reads(call):
                need(var)


def _inherit_name(var: Var, other: Var) -> None:
    """``var`` stands for ``other`` from now on, and takes its name if it has none: the
    copy .grad takes of a gradient is named after the parameter (d_weight)."""
    if var.kind not in ("result", "view"):
        return
    if (
        not var.strong
        and other.grad_of is not None
        and (var.grad_of is None or var.grad_of.kind != "input")
    ):
        var.grad_of = other.grad_of
    if not var.hint and other.strong:
        var.hint, var.strong = other.hint, True


def _is_one(value: Any) -> bool:
    if isinstance(value, Scalar):
        return bool(value.value == 1)
    if isinstance(value, Var) and value.kind == "captured":
        return bool(_uniform(value.array) == 1)
    return False


def _uniform(array: np.ndarray) -> Any:
    """The value every element of ``array`` holds, bit for bit (-0.0 is not 0.0), or None."""
    if array.size == 0 or array.dtype.kind not in "fiub":
        return None
    flat = np.ascontiguousarray(array).reshape(-1)
    bits = flat.view(np.uint8).reshape(flat.size, flat.itemsize)
    if not (bits == bits[0]).all():
        return None
    return flat[0].item()


def _broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    except ValueError:
        return None


def _key(value: Any, versions: dict[Var, int] | None = None) -> Any:
    """A hashable key for operands: Vars by identity (and version), constants by value."""
    if isinstance(value, Var):
        return ("var", id(value), (versions or {}).get(value.root, 0))
    if isinstance(value, Scalar):
        return value.key()
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(_key(v, versions) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v, versions)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, np.ufunc):
        return ("ufunc", value.__name__)
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value
