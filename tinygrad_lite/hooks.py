"""The hooks of the core: everything that code built on top of it may use beyond the public
API (``Tensor``, ``Function``, ``no_grad``, ``engine.backward``).

The core imports nothing above it and names nothing above it. What watches it or runs its
work in its place plugs in here, and a test holds code above the core to public names.
Such code may also read the graph as docs/internals.md describes it (a Tensor's node,
``_ctx``; a node's ``inputs`` and ``seq``; a Tensor's ``_version``), but never writes it.

Watching:

- ``Observer``: sees every op of its thread, ``forward`` after each op's forward and
  ``backward`` after each backward step, while it is active (``with observer:``), and the
  random numbers a function draws through ``draw(what, rng, method, *args)``;
- ``tangents_of(t)``: in forward mode, ``t``'s tangent at each active dual level (the
  levels are observers too, and come first: an observer told of an op sees the tangent its
  output got).

Giving a Tensor arrays of one's own:

- ``KeptArray``: a Tensor keeps an array of a subclass of this one as it is through its
  copies, where any other ndarray subclass becomes a plain array; so an array whose numpy
  calls its maker follows (a recording) stays followed inside the Tensor.

Running the work of ops in their place (a program replayed instead of the ops), which must
then do what the ops would have done around that work:

- ``thread_mode``: this thread's switches, to read (``enabled``: grad mode;
  ``observers``: who watches; ``quiet``: numpy's floating-point warnings are off);
- ``QUIET``, ``set_numpy_state``, ``reset_numpy_state``: ``fp_quiet``'s two steps without
  its checks (``token = set_numpy_state(QUIET)``, then ``reset_numpy_state(token)``);
- ``mark_changed(*tensors)``: date an in-place change of the tensors' arrays, as the
  in-place methods do, so that a graph that saved the old values refuses them;
- ``from_array(array)``: a Tensor around an array, taken as it is (no checks, no copy).
"""

from __future__ import annotations

from tinygrad_lite.convert import KeptArray
from tinygrad_lite.function import clock
from tinygrad_lite.grad_mode import _QUIET as QUIET
from tinygrad_lite.grad_mode import Observer, draw, tangents_of
from tinygrad_lite.grad_mode import _mode as thread_mode
from tinygrad_lite.grad_mode import _reset_state as reset_numpy_state
from tinygrad_lite.grad_mode import _set_state as set_numpy_state
from tinygrad_lite.tensor import Tensor

__all__ = [
    "QUIET",
    "KeptArray",
    "Observer",
    "draw",
    "from_array",
    "mark_changed",
    "reset_numpy_state",
    "set_numpy_state",
    "tangents_of",
    "thread_mode",
]

from_array = Tensor._from_op


def mark_changed(*tensors: Tensor) -> None:
    """Date a change made to these tensors' arrays in place (see ``Tensor._update``)."""
    tick = next(clock)
    for t in tensors:
        t._version = tick
