"""tinygrad_lite: a small, readable autograd framework on numpy, reverse mode and forward mode.

>>> import tinygrad_lite as tl
>>> x = tl.Tensor(3.0, requires_grad=True)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
Tensor(8.)

``tl.testing`` (hypothesis strategies for property tests) is imported on first use, so
that tinygrad_lite itself does not need hypothesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tinygrad_lite import data, forward_ad, interop, nn, optim
from tinygrad_lite.autograd import grad, value_and_grad
from tinygrad_lite.compile import compile_step as compile
from tinygrad_lite.func import hessian, jacfwd, jacrev, jvp, linearize, vjp
from tinygrad_lite.function import Function
from tinygrad_lite.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinygrad_lite.nn import init
from tinygrad_lite.nn.serialization import load, save
from tinygrad_lite.tensor import Tensor, cat, stack, where
from tinygrad_lite.tools import viz
from tinygrad_lite.tools.anomaly import AnomalyError, detect_anomaly
from tinygrad_lite.tools.gradcheck import GradcheckError, GradcheckWarning, gradcheck, gradgradcheck
from tinygrad_lite.tools.trace import Trace, trace

if TYPE_CHECKING:
    from tinygrad_lite.tools import testing

__all__ = [
    "AnomalyError",
    "Function",
    "GradcheckError",
    "GradcheckWarning",
    "Tensor",
    "Trace",
    "cat",
    "compile",
    "data",
    "detect_anomaly",
    "enable_grad",
    "forward_ad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hessian",
    "init",
    "interop",
    "is_grad_enabled",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "load",
    "nn",
    "no_grad",
    "optim",
    "save",
    "stack",
    "testing",
    "trace",
    "value_and_grad",
    "vjp",
    "viz",
    "where",
]


def __getattr__(name: str) -> Any:
    # tl.testing imports hypothesis: load it only when asked for (PEP 562).
    if name == "testing":
        return importlib.import_module("tinygrad_lite.tools.testing")
    raise AttributeError(f"module 'tinygrad_lite' has no attribute {name!r}")
