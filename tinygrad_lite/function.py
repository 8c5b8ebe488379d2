"""Function: one differentiable operation, its forward, backward and jvp side by side.

Every primitive in ``ops/`` is a Function, and so is any op a user adds:

>>> import numpy as np
>>> import tinygrad_lite as tl
>>> from tinygrad_lite.function import apply_to
>>> from tinygrad_lite.ops import Sigmoid
>>> class Softplus(tl.Function):
...     '''out = log(1 + exp(x))    dx = grad * sigmoid(x)
...     out_t = x_t * sigmoid(x)
...     '''
...
...     def forward(self, x):
...         return np.logaddexp(0.0, x)
...
...     def backward(self, grad, x, out):
...         return grad * apply_to(Sigmoid, x)
...
...     def jvp(self, tangents, x, out):
...         (x_t,) = tangents
...         return x_t * apply_to(Sigmoid, x)
>>> x = tl.Tensor([0.0, 2.0], requires_grad=True)
>>> Softplus.apply(x).sum().backward()
>>> x.grad
Tensor([0.5       , 0.88079708])
>>> tl.jvp(Softplus.apply, (tl.Tensor([0.0, 2.0]),), (tl.Tensor([1.0, 1.0]),))[1]
Tensor([0.5       , 0.88079708])

``forward`` receives numpy arrays (and keyword parameters) and returns an array.
``backward`` receives the gradient of the output and the op's inputs and output, and returns
one gradient per input (alone, or as a tuple for several inputs; ``None`` for an input that
needs none). The engine adds the gradients up and checks their shapes. A gradient is a new
array, or ``grad`` itself, or a view of it; never an array the op keeps (an attribute, an
input): the engine hands an array it alone holds to ``.grad`` without copying it.

A backward rule is written once and serves two cases. In a plain ``backward()`` its
arguments are numpy arrays, so it costs what the numpy expression costs. Under
``backward(create_graph=True)`` they are Tensors, so the same expression is recorded and
the gradient can be differentiated again. Rules built from operators (``+ - * / ** @``) and
the methods arrays and Tensors share (``reshape``, ``sum``, ``mT``) work in both cases
unchanged; for anything else a rule calls :func:`apply_to`, which applies another Function
to whichever kind of value it was given.

``jvp``, the third rule, is forward mode's (``tl.forward_ad``, ``tl.jvp``): it receives
``tangents``, one per input (None for an input that has none; at least one has one), and
the op's inputs and output as ``backward`` does, and returns the output's tangent, of the
output's shape. Where backward multiplies the gradient arriving at the output by each
input's local derivative, jvp multiplies each input's tangent by the same local derivative
and adds the terms up (:func:`summed`). Like backward, it gets numpy arrays, or Tensors
when its own derivatives are needed (nested forward mode, or a graph being recorded).
A Function without one works in reverse mode and is a clear error in forward mode.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinygrad_lite import tensor
from tinygrad_lite.grad_mode import _mode, fp_quiet


class Function:
    """Base class of every differentiable operation.

    An instance is one node of the graph: ``apply`` creates it, runs ``forward`` and, when a
    gradient will be needed, keeps the input Tensors (``inputs``) and the node's sequence
    number (``seq``, a tick of ``clock``), so that the engine can run ``backward`` later.
    Subclasses keep whatever else their backward needs (a mask, a shape) as attributes set
    in ``forward``.
    """

    __slots__ = ("inputs", "seq")

    inputs: tuple[tensor.Tensor, ...] | None
    seq: int

    def forward(self, *args: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, grad: Any, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    def jvp(self, tangents: tuple[Any, ...], *args: Any) -> Any:
        raise NotImplementedError(
            f"{self.name}: forward mode needs the op's jvp rule, and {type(self).__name__} "
            f"defines none; add jvp(self, tangents, *inputs, out) beside its backward, "
            f"returning the output's tangent (see docs/adding-an-op.md)"
        )

    @property
    def name(self) -> str:
        """The op's name as graphs and traces show it: the class name in lower case."""
        return type(self).__name__.lower()

    @property
    def needs_input_grad(self) -> list[bool]:
        """For each input, whether a gradient must flow to it (rules may skip the others)."""
        assert self.inputs is not None, "the graph was freed"
        return [x.requires_grad for x in self.inputs]

    @classmethod
    def apply(cls, *inputs: tensor.Tensor, **params: Any) -> tensor.Tensor:
        """Run the op on Tensors: forward on their arrays; record it if a gradient is needed.

        Positional arguments are the Tensor inputs; keyword arguments are passed to
        ``forward`` as they are (an axis, a shape).
        """
        arrays = [x.data for x in inputs if isinstance(x, tensor.Tensor)]
        if not inputs or len(arrays) != len(inputs):
            raise _not_tensors(cls, inputs)
        fn = cls()
        if _mode.quiet:  # numpy's warnings are off already (see fp_quiet)
            data = fn.forward(*arrays, **params)
        else:
            with fp_quiet():
                data = fn.forward(*arrays, **params)
        if type(data) is not _ARRAY:
            # numpy's arithmetic on 0-d arrays returns a numpy scalar (np.float64), which
            # cannot be changed in place: a Tensor always holds an array, 0-d included.
            # (asanyarray: an ndarray subclass the core keeps, convert.KeptArray, stays itself.)
            data = np.asanyarray(data)
        out = tensor.Tensor._from_op(data)
        if _mode.enabled and _any_requires_grad(inputs):
            fn.inputs, fn.seq = inputs, next(clock)
            out.requires_grad, out._ctx = True, fn
        if _mode.observers:
            for observer in _mode.observers:
                observer.forward(fn, inputs, out)
        return out


_ARRAY = np.ndarray  # (a name of this module: apply tests every result against it)

# The clock: one count for the whole program, whose ticks date both the nodes (Function.seq)
# and the in-place changes of tensors (Tensor._version, the tick of a tensor's last change).
# - It orders the backward pass: a node's inputs were all computed before it, so each has a
#   smaller number than every node that used it, and the engine visits nodes from the
#   highest number down (PyTorch's engine does the same).
# - It catches stale values: an input changed after the node was made has
#   x._version > fn.seq, and the engine refuses to run the rule on the new values.
# It starts at 1, so that a version of 0 means "never changed". next() on a count is one C
# call, atomic under the GIL: ticks stay unique across threads.
clock = itertools.count(1)


def _any_requires_grad(inputs: tuple[tensor.Tensor, ...]) -> bool:
    # A loop rather than any(...): every op calls this, and a generator costs more.
    for x in inputs:  # noqa: SIM110
        if x.requires_grad:
            return True
    return False


def _not_tensors(cls: type[Function], inputs: tuple[Any, ...]) -> TypeError:
    return TypeError(
        f"{cls.__name__}.apply() takes one or more Tensors as positional inputs, got "
        f"({', '.join(type(x).__name__ for x in inputs)}); pass other arguments by keyword"
    )


def summed(*terms: Any) -> Any:
    """The sum of the terms that are not None: a jvp rule's terms, one per input, each None
    for an input without a tangent (so no work is spent on it)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def apply_to(fn_type: type[Function], value: Any, **params: Any) -> Any:
    """Apply a Function inside a backward rule, to an array or to a Tensor.

    An array (or a numpy scalar, what numpy's arithmetic on 0-d arrays returns) gets the
    plain forward, and nothing is recorded; a Tensor, which a rule only sees under
    ``create_graph=True``, gets ``apply``, so that the step is recorded too.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        return fn_type().forward(value, **params)
    return fn_type.apply(value, **params)


def values(value: Any) -> Any:
    """The numbers of a value a backward rule received: an array (or numpy scalar) as it is,
    a Tensor's array (under ``create_graph``), for a mask or a test that is a constant."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    return value.data
