"""The compiler: ``tl.compile(step)`` records a training step once and replays it as
straight-line numpy.

In the order a recording goes: ``traced.py`` (the arrays whose numpy calls are recorded),
``tape.py`` (the record), ``passes.py`` and ``codegen.py`` (the program written from it),
``step.py`` (``compile_step``, the recording and the guards), ``fastpath.py`` (the call
that runs the program). See docs/compile.md.
"""

from __future__ import annotations

from tinygrad_lite.compile.step import CompiledStep, compile_step
from tinygrad_lite.compile.traced import CompileError, DataDependentError, UnsupportedError

__all__ = [
    "CompileError",
    "CompiledStep",
    "DataDependentError",
    "UnsupportedError",
    "compile_step",
]
