"""Check gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

A backward rule is a claim about a derivative; central differences test the claim. For an
input x and a step eps, the numeric derivative of f at element k is

    numeric[k] = (f(x + eps*e_k) - f(x - eps*e_k)) / (2*eps)

(e_k is 1 at element k and 0 elsewhere), whose error is O(eps**2). ``gradcheck`` compares
it with the analytic one that the backward pass computes, for every element of every input
that requires grad and every element of the output, in float64:

    |analytic - numeric| <= atol + rtol * |numeric| + rounding

where ``rounding`` is what rounding errors in f's values alone can do to the difference
(about 1e-9 for values of f near 1; see ``ROUNDING``), and raises :class:`GradcheckError`
naming the first input that disagrees, its worst element, both values and the errors.
``gradgradcheck`` does the same for the backward pass itself, so that second derivatives
(``create_graph=True``) are checked too. ``gradcheck(..., check_forward_ad=True)`` checks
the jvp rules (forward mode) the same way: each column of the Jacobian, the tangent of the
output along one input element, against the same central differences.

Here is how a user adds an op and checks it: Softplus, forward and backward side by side.

>>> import numpy as np
>>> import tinygrad_lite as tl
>>> from tinygrad_lite.function import apply_to
>>> from tinygrad_lite.ops import Sigmoid
>>> class Softplus(tl.Function):
...     '''out = log(1 + exp(x))    dx = grad * sigmoid(x)'''
...
...     def forward(self, x):
...         return np.logaddexp(0.0, x)
...
...     def backward(self, grad, x, out):
...         return grad * apply_to(Sigmoid, x)  # apply_to: recorded when x is a Tensor
>>> x = tl.Tensor([[-2.0, 0.0, 1.5], [3.0, -0.5, 0.25]], requires_grad=True)
>>> tl.gradcheck(Softplus.apply, x)
True
>>> tl.gradgradcheck(Softplus.apply, x)
True

A backward that is slightly off is caught, and the error says where (the example shows
eight digits of each value: the central difference is good to about nine, and its last
digits, rounding in f, vary with the CPU):

>>> class BadSoftplus(Softplus):
...     def backward(self, grad, x, out):
...         return grad * apply_to(Sigmoid, x) * 1.01
>>> tl.gradcheck(BadSoftplus.apply, x)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
tinygrad_lite.tools.gradcheck.GradcheckError: gradcheck: input 0 (shape (2, 3)): the analytic \
gradient disagrees with central differences at element (1, 0) (output element (1, 0)):
    analytic 0.96209986...
    numeric  0.95257412...
    absolute error 0.009526, relative error 0.01 > tolerance 0.0009626 (atol + rtol*|numeric| \
+ rounding in f, 2.7e-09)
    (6 of 36 values disagree)

A backward that uses a constant where it should use the Tensor gives the right first
derivative, yet its second derivative is wrong (``x.data`` is cut from the graph):

>>> class ConstantSoftplus(Softplus):
...     def backward(self, grad, x, out):
...         x = x.data if isinstance(x, tl.Tensor) else x
...         return grad * apply_to(Sigmoid, x)
>>> tl.gradcheck(ConstantSoftplus.apply, x)
True
>>> tl.gradgradcheck(ConstantSoftplus.apply, x)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
tinygrad_lite.tools.gradcheck.GradcheckError: gradgradcheck: input 0 (shape (2, 3)): ...

What is checked, and how:

- Inputs: a Tensor that requires grad is checked; a Tensor that does not is a constant,
  passed to f as it is. A number, a (nested) list or a numpy array is checked as if it
  were a Tensor that requires grad. Every checked input is copied into a fresh float64
  leaf: the caller's tensors, their data and their ``.grad`` are never touched, and a
  float32 input is checked in float64 with a :class:`GradcheckWarning` (float32 finite
  differences are too coarse for any useful tolerance).
- Outputs: f returns a Tensor of any shape, and each output element is checked on its
  own: the Jacobian is compared entry by entry (``mode="full"``).
- Large inputs: with ``mode="direction"`` the check compares directional derivatives
  instead, along a few random unit directions v of each input (from a generator seeded
  with ``seed``) for a random projection u of the output: the analytic
  ``v . grad <u, f(x)>`` against ``(<u, f(x + eps*v)> - <u, f(x - eps*v)>) / (2*eps)``.
  A wrong Jacobian passes this only for u and v in a set of measure zero. ``mode="auto"``
  (the default) checks in full while the Jacobian has at most ``FULL_LIMIT`` entries.
- A backward pass that raises (a rule returning a gradient of the wrong shape, say) is a
  failed check: a GradcheckError that carries the original error as its cause; so is a
  forward-mode pass that raises (an op without a jvp rule).
- Forward mode (``check_forward_ad=True``): in "full" mode, every column J[:, k] from a
  pass with the tangent e_k; in "direction" mode, ``<u, J v>`` from a pass with the tangent
  v, against the same differences as the backward check. ``check_backward_ad=False``
  leaves the backward pass out (for an op that has only a jvp rule).

The forward rule of Softplus, beside its backward:

>>> class DualSoftplus(Softplus):
...     def jvp(self, tangents, x, out):
...         return tangents[0] * apply_to(Sigmoid, x)
>>> tl.gradcheck(DualSoftplus.apply, x, check_forward_ad=True)
True
>>> class BadDualSoftplus(Softplus):
...     def jvp(self, tangents, x, out):
...         return tangents[0] * apply_to(Sigmoid, -x)
>>> tl.gradcheck(BadDualSoftplus.apply, x, check_forward_ad=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
tinygrad_lite.tools.gradcheck.GradcheckError: gradcheck: input 0 (shape (2, 3)): the \
forward-mode derivative (jvp) disagrees with central differences at element (0, 0) ...
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lite import engine
from tinygrad_lite.forward_ad import dual_level, make_dual, unpack_dual
from tinygrad_lite.grad_mode import enable_grad, fp_quiet
from tinygrad_lite.tensor import Tensor

MODES = ("auto", "full", "direction")
FULL_LIMIT = 10_000  # Jacobian entries up to which mode="auto" checks every one of them
# A computed value of f is taken to be exact to within ROUNDING * |f|: four float64 roundings.
# Its central difference is then uncertain by ROUNDING * (|f(x+)| + |f(x-)|) / step, which
# the tolerance allows for: it matters only where |f| is large next to its derivative (for
# f = x + 1e8 the difference is good to 3 digits, not 9), and is 1e-9 for |f| ~ 1.
ROUNDING = 4 * float(np.finfo(np.float64).eps)
FORWARD = "the forward-mode derivative (jvp)"


class GradcheckError(AssertionError):
    """A gradient disagrees with finite differences (or the backward pass failed).

    An AssertionError, so that a failed check inside a test reads as a failed test. The
    details are kept as attributes: ``input_index`` (the position of the input among the
    arguments), ``index`` (the worst element of that input; None in direction mode),
    ``output_index`` (the output element; None for a projection), ``analytic``,
    ``numeric``, ``abs_error`` and ``rel_error``.
    """

    def __init__(
        self,
        message: str,
        *,
        input_index: int | None = None,
        index: tuple[int, ...] | None = None,
        output_index: tuple[int, ...] | None = None,
        analytic: float = math.nan,
        numeric: float = math.nan,
    ) -> None:
        super().__init__(message)
        self.input_index = input_index
        self.index = index
        self.output_index = output_index
        self.analytic = analytic
        self.numeric = numeric
        self.abs_error = abs(analytic - numeric)
        self.rel_error = _relative(analytic, numeric)


class GradcheckWarning(UserWarning):
    """A float32 input was given to a check: it is checked in float64 instead."""


def gradcheck(
    f: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    mode: str = "auto",
    directions: int = 3,
    seed: int = 0,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
) -> bool:
    """Check the gradient of ``f`` at ``inputs`` against central differences.

    ``f(*inputs)`` returns a Tensor. Each input that requires grad (a Tensor with
    ``requires_grad=True``, or a number, list or array) is checked in float64: the analytic
    derivative of every output element with respect to every input element must satisfy
    ``|analytic - numeric| <= atol + rtol * |numeric| + rounding``, where
    ``numeric = (f(x + eps) - f(x - eps)) / (2*eps)`` and ``rounding`` bounds what rounding
    errors in the two values of f can do to it. ``mode`` is "full" (every element),
    "direction" (``directions`` random unit directions per input, seeded with ``seed``) or
    "auto" (full up to ``FULL_LIMIT`` Jacobian entries). ``check_forward_ad=True`` checks
    forward mode's derivatives (the ops' jvp rules) too, and ``check_backward_ad=False``
    leaves out the backward pass. Returns True, or raises :class:`GradcheckError`.
    """
    _check_settings("gradcheck", eps, atol, rtol, mode, directions)
    for label, flag in (
        ("check_forward_ad", check_forward_ad),
        ("check_backward_ad", check_backward_ad),
    ):
        if not isinstance(flag, bool):
            raise TypeError(f"gradcheck: {label} must be True or False, got {flag!r}")
    if not (check_forward_ad or check_backward_ad):
        raise ValueError(
            "gradcheck: check_forward_ad and check_backward_ad are both False: nothing to check"
        )
    checker = _Checker("gradcheck", f, inputs, eps, atol, rtol, mode, directions, seed)
    checker.backward_ad, checker.forward_ad = check_backward_ad, check_forward_ad
    checker.run()
    return True


def gradgradcheck(
    f: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    mode: str = "auto",
    directions: int = 3,
    seed: int = 0,
) -> bool:
    """Check the second derivatives of ``f`` at ``inputs``: its backward pass, recorded.

    With a fixed random output gradient u (f's shape) and a fixed random v_i per checked
    input (from a generator seeded with ``seed``), the backward pass is recorded
    (``create_graph=True``) to give

        h(x, u) = sum_i < d<u, f(x)>/dx_i , v_i >

    and ``gradcheck`` checks h with respect to every x_i and to u. Its gradient in x_i is
    the Hessian-vector product, so a rule whose backward is not itself differentiated
    correctly (one that uses ``.data`` where it should use the Tensor) fails; its gradient
    in u checks that the rule is linear in ``grad``. A random v sees every wrong second
    derivative except for v in a set of measure zero. u is reported as the input after
    the last one. Arguments as for :func:`gradcheck`.
    """
    _check_settings("gradgradcheck", eps, atol, rtol, mode, directions)
    first = _Checker("gradgradcheck", f, inputs, eps, atol, rtol, mode, directions, seed)
    rng = np.random.default_rng(seed)
    out_shape = first.evaluate(first.arrays)[0].shape
    u = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(first.arrays[k].shape) for k in range(len(first.positions))]
    checked = first.positions

    def h(*args: Any) -> Tensor:
        """<d<u, f(x)>/dx, v>: f's backward pass with output gradient u, projected on v."""
        *xs, seed_grad = args
        out = f(*xs)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradgradcheck: f must return a Tensor, got {type(out).__name__}")
        found: dict[int, Any] = {}
        if out.requires_grad:
            try:
                pairs = engine.backward(out, seed_grad, retain_graph=True, create_graph=True)
            except Exception as error:
                raise _backward_failed("gradgradcheck", error) from error
            found = {id(leaf): g for leaf, g in pairs}
        total = Tensor(0.0)
        for position, v in zip(checked, vs):
            g = found.get(id(xs[position]))
            if g is None:
                continue
            if not isinstance(g, Tensor):  # a rule that left the graph: a constant
                g = Tensor(np.asarray(g))
            total = total + (g * v).sum()
        return total

    second_inputs = [*first.originals, Tensor(u, requires_grad=True)]
    second = _Checker(
        "gradgradcheck", h, second_inputs, eps, atol, rtol, mode, directions, seed, warn=False
    )
    second.u_position = len(inputs)
    second.what = (
        "the second derivative (the gradient of h = sum_i <d<u, f>/dx_i, v_i>, the backward "
        "pass recorded with create_graph=True)"
    )
    second.run()
    return True


# ---------------------------------------------------------------------------- the checker


class _Checker:
    """One check of f at its inputs: the inputs prepared, then analytic vs numeric."""

    def __init__(
        self,
        name: str,
        f: Callable[..., Tensor],
        inputs: Any,
        eps: float,
        atol: float,
        rtol: float,
        mode: str,
        directions: int,
        seed: int,
        warn: bool = True,
    ) -> None:
        self.name = name
        self.f = f
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.mode = mode
        self.directions = directions
        self.seed = seed
        self.originals = list(inputs)
        self.u_position: int | None = None  # gradgradcheck: where the output gradient u is
        self.what = "the analytic gradient"
        self.backward_ad, self.forward_ad = True, False  # which derivatives to check
        # positions of the checked inputs, and a float64 copy of each one's values
        self.positions: list[int] = []
        self.arrays: list[np.ndarray] = []
        float32 = []
        for i, value in enumerate(inputs):
            array = _checked_array(name, i, value)
            if array is None:
                continue
            if array.dtype == np.float32:
                float32.append(i)
            self.positions.append(i)
            self.arrays.append(array.astype(np.float64))
        if not self.positions:
            raise ValueError(
                f"{name}: no input requires grad, so there is nothing to check; pass Tensors "
                f"with requires_grad=True, or numbers or arrays (which are checked)"
            )
        if float32 and warn:
            warnings.warn(
                f"{name}: input(s) {float32} are float32; they are checked in float64, since "
                f"float32 finite differences are too coarse for the tolerances",
                GradcheckWarning,
                stacklevel=3,
            )

    def evaluate(self, arrays: list[np.ndarray]) -> tuple[Tensor, list[Tensor]]:
        """f at the given values of the checked inputs: its output and the fresh leaves."""
        args = list(self.originals)
        leaves = []
        for position, array in zip(self.positions, arrays):
            leaf = Tensor(array, requires_grad=True)  # a copy: f cannot change ours
            args[position] = leaf
            leaves.append(leaf)
        with enable_grad():
            out = self.f(*args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{self.name}: f must return a Tensor, got {type(out).__name__}")
        return out, leaves

    def value(self, arrays: list[np.ndarray]) -> np.ndarray:
        return self.evaluate(arrays)[0].data.astype(np.float64)

    def tangent(self, i: int, direction: np.ndarray) -> np.ndarray:
        """J v for checked input i and v = ``direction``, by forward mode: the tangent of f's
        output in one pass with that input dual (zeros where f does not depend on it)."""
        args = list(self.originals)
        for position, array in zip(self.positions, self.arrays):
            args[position] = Tensor(array)
        position = self.positions[i]
        try:
            with dual_level():
                args[position] = make_dual(args[position], direction)
                out = self.f(*args)
                if not isinstance(out, Tensor):
                    raise TypeError(f"f must return a Tensor, got {type(out).__name__}")
                tangent = unpack_dual(out).tangent
        except GradcheckError:
            raise
        except Exception as error:
            raise GradcheckError(
                f"{self.name}: the forward-mode pass of f failed, so its derivative cannot "
                f"be right: {type(error).__name__}: {error}"
            ) from error
        if tangent is None:
            return np.zeros(out.shape)
        return tangent.data.astype(np.float64)

    def backward(self, out: Tensor, leaves: list[Tensor], seed: np.ndarray) -> list[np.ndarray]:
        """d<seed, out>/d(leaf) for each leaf (zeros where out does not depend on it)."""
        found: dict[int, Any] = {}
        if out.requires_grad:
            try:
                pairs = engine.backward(out, seed, retain_graph=True, create_graph=False)
            except GradcheckError:
                raise  # from a backward pass inside f (gradgradcheck's h)
            except Exception as error:
                raise _backward_failed(self.name, error) from error
            found = {id(leaf): g for leaf, g in pairs}
        grads = []
        for leaf in leaves:
            g = found.get(id(leaf))
            grads.append(np.zeros(leaf.shape) if g is None else np.asarray(g, dtype=np.float64))
        return grads

    @fp_quiet()
    def run(self) -> None:
        out, leaves = self.evaluate(self.arrays)
        n_in = sum(a.size for a in self.arrays)
        full = self.mode == "full" or (self.mode == "auto" and n_in * out.size <= FULL_LIMIT)
        failures = self.full(out, leaves) if full else self.direction(out, leaves)
        if failures:
            raise failures[0]

    def full(self, out: Tensor, leaves: list[Tensor]) -> list[GradcheckError]:
        """Compare every entry of the Jacobian: d out[j] / d x_i[k]."""
        analytic = [np.zeros((out.size, a.size)) for a in self.arrays]
        for j in range(out.size if self.backward_ad else 0):
            seed = np.zeros(out.shape)
            seed.flat[j] = 1.0
            for rows, g in zip(analytic, self.backward(out, leaves, seed)):
                rows[j] = g.ravel()
        failures = []
        for i, array in enumerate(self.arrays):
            numeric = np.zeros((out.size, array.size))
            rounding = np.zeros((out.size, array.size))
            work = [a.copy() for a in self.arrays]
            for k in range(array.size):
                x = array.flat[k]
                work[i].flat[k] = x + self.eps
                plus_step, plus = work[i].flat[k], self.value(work)
                work[i].flat[k] = x - self.eps
                minus_step, minus = work[i].flat[k], self.value(work)
                work[i].flat[k] = x
                # the step actually taken, after rounding x + eps and x - eps
                step = plus_step - minus_step
                numeric[:, k] = (plus - minus).ravel() / step
                rounding[:, k] = ROUNDING * (np.abs(plus) + np.abs(minus)).ravel() / step
            if self.backward_ad:
                failures.append(self.compare(i, analytic[i], numeric, rounding, out.shape))
            if self.forward_ad:
                columns = np.zeros((out.size, array.size))
                for k in range(array.size):
                    direction = np.zeros(array.shape)
                    direction.flat[k] = 1.0
                    columns[:, k] = self.tangent(i, direction).ravel()
                failures.append(self.compare(i, columns, numeric, rounding, out.shape, FORWARD))
        return [failure for failure in failures if failure is not None]

    def direction(self, out: Tensor, leaves: list[Tensor]) -> list[GradcheckError]:
        """Compare v . grad<u, f> with finite differences of <u, f> along random v."""
        rng = np.random.default_rng(self.seed)
        u = rng.standard_normal(out.shape)
        grads = self.backward(out, leaves, u) if self.backward_ad else self.arrays
        failures = []
        for i, (array, g) in enumerate(zip(self.arrays, grads)):
            analytic = np.zeros((1, self.directions))
            forward = np.zeros((1, self.directions))
            numeric = np.zeros((1, self.directions))
            rounding = np.zeros((1, self.directions))
            work = list(self.arrays)
            for d in range(self.directions):
                v = rng.standard_normal(array.shape)
                v /= np.linalg.norm(v) or 1.0
                work[i] = array + self.eps * v
                plus = u * self.value(work)
                step = work[i]
                work[i] = array - self.eps * v
                minus = u * self.value(work)
                step = step - work[i]  # the step actually taken, after rounding
                numeric[0, d] = float(np.sum(plus) - np.sum(minus)) / (2 * self.eps)
                analytic[0, d] = float(np.sum(g * step)) / (2 * self.eps)
                if self.forward_ad:
                    forward[0, d] = float(np.sum(u * self.tangent(i, step / (2 * self.eps))))
                size = float(np.sum(np.abs(plus)) + np.sum(np.abs(minus)))
                rounding[0, d] = ROUNDING * size / (2 * self.eps)
            if self.backward_ad:
                failures.append(self.compare(i, analytic, numeric, rounding, None))
            if self.forward_ad:
                failures.append(self.compare(i, forward, numeric, rounding, None, FORWARD))
        return [failure for failure in failures if failure is not None]

    def compare(
        self,
        i: int,
        analytic: np.ndarray,
        numeric: np.ndarray,
        rounding: np.ndarray,
        out_shape: tuple[int, ...] | None,
        what: str | None = None,
    ) -> GradcheckError | None:
        """The error for input i (rows: outputs, columns: elements or directions), or None.

        ``rounding`` is how far rounding in f alone may move each numeric value; ``what``
        names the derivative checked (``self.what`` by default).
        """
        error = np.abs(analytic - numeric)
        tolerance = self.atol + self.rtol * np.abs(numeric) + rounding
        finite = np.isfinite(analytic) & np.isfinite(numeric)
        bad = ~(error <= tolerance) | ~finite
        if not bad.any():
            return None
        # the worst value: the one that exceeds its tolerance by the largest factor
        score = np.where(finite, error / np.maximum(tolerance, np.finfo(float).tiny), np.inf)
        j, k = (int(n) for n in np.unravel_index(np.argmax(np.where(bad, score, -1.0)), bad.shape))
        a, n = float(analytic[j, k]), float(numeric[j, k])
        array = self.arrays[i]
        position = self.positions[i]
        where = f"input {position} (shape {array.shape})"
        if position == self.u_position:
            where = f"the output gradient u (input {position}, shape {array.shape})"
        if out_shape is None:
            index = output_index = None
            at = (
                f"along random direction v number {k + 1} of {self.directions} (seed "
                f"{self.seed}), for a random projection u of the output ("
                + ("<u, J v>" if what == FORWARD else "v . grad<u, f>")
                + " against central differences of <u, f>)"
            )
        else:
            index = _unravel(k, array.shape)
            output_index = _unravel(j, out_shape)
            at = f"at element {index}"
            if out_shape:
                at += f" (output element {output_index})"
        if finite[j, k]:
            verdict = (
                f"absolute error {abs(a - n):.4g}, relative error {_relative(a, n):.4g} "
                f"> tolerance {tolerance[j, k]:.4g} (atol + rtol*|numeric| + rounding in f, "
                f"{rounding[j, k]:.2g})"
            )
        else:
            verdict = "not finite: check at a point where f is finite and differentiable"
        message = (
            f"{self.name}: {where}: {what or self.what} disagrees with central differences "
            f"{at}:\n"
            f"    analytic {a:.10g}\n"
            f"    numeric  {n:.10g}\n"
            f"    {verdict}\n"
            f"    ({int(bad.sum())} of {bad.size} values disagree)"
        )
        return GradcheckError(
            message,
            input_index=position,
            index=index,
            output_index=output_index,
            analytic=a,
            numeric=n,
        )


def _checked_array(name: str, i: int, value: Any) -> np.ndarray | None:
    """The values of input i if it is to be checked (None for a constant)."""
    if isinstance(value, Tensor):
        return value.data if value.requires_grad else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, list, tuple, np.ndarray, np.number)
    ):
        raise TypeError(
            f"{name}: input {i} is {type(value).__name__}; accepted: Tensors (checked when "
            f"they require grad, otherwise constants), numbers, lists and numpy arrays "
            f"(checked); pass anything else to f through a closure"
        )
    return Tensor(value).data


def _backward_failed(name: str, error: Exception) -> GradcheckError:
    return GradcheckError(
        f"{name}: the backward pass of f failed, so its gradient cannot be right: "
        f"{type(error).__name__}: {error}"
    )


def _check_settings(
    name: str, eps: float, atol: float, rtol: float, mode: str, directions: int
) -> None:
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"{name}: eps must be a number > 0, got {eps!r}")
    for label, tol in (("atol", atol), ("rtol", rtol)):
        if not (isinstance(tol, (int, float)) and tol >= 0):
            raise ValueError(f"{name}: {label} must be a number >= 0, got {tol!r}")
    if mode not in MODES:
        raise ValueError(f"{name}: mode must be one of {', '.join(MODES)}; got {mode!r}")
    if not (isinstance(directions, int) and directions >= 1):
        raise ValueError(f"{name}: directions must be an int >= 1, got {directions!r}")


def _unravel(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(n) for n in np.unravel_index(k, shape)) if shape else ()


def _relative(analytic: float, numeric: float) -> float:
    """|analytic - numeric| / |numeric| (inf when numeric is 0 and they differ)."""
    error = abs(analytic - numeric)
    if error == 0:
        return 0.0
    return error / abs(numeric) if numeric != 0 else math.inf
