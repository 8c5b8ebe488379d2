"""tinygrad_lite: a small, readable reverse-mode autograd framework on numpy.

>>> import tinygrad_lite as tl
>>> x = tl.Tensor(3.0, requires_grad=True)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
Tensor(8.)
"""

from tinygrad_lite import init, nn, optim
from tinygrad_lite.autograd import grad, value_and_grad
from tinygrad_lite.compile import compile_step as compile
from tinygrad_lite.function import Function
from tinygrad_lite.mode import enable_grad, is_grad_enabled, no_grad
from tinygrad_lite.serialization import load, save
from tinygrad_lite.tensor import Tensor

__all__ = [
    "Function",
    "Tensor",
    "compile",
    "enable_grad",
    "grad",
    "init",
    "is_grad_enabled",
    "load",
    "nn",
    "no_grad",
    "optim",
    "save",
    "value_and_grad",
]
