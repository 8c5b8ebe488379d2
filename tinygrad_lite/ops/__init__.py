"""The primitive operations: each a Function with its forward and its backward side by side.

One file per family: ``elementwise.py`` (add, mul, exp, sigmoid, ...), ``reductions.py``
(sum, max), ``movement.py`` (expand, reshape, permute, index), ``matmul.py``, and
``losses.py``, two fused ops that save nodes on every training step (an affine map on a
batch of rows, the sum-of-squares loss). Each docstring states the op's math in the code's
own names: ``out`` is the result, ``grad`` the gradient of the final output with respect to
``out``, and ``dx``, ``dy`` what the backward returns for the inputs ``x``, ``y``.
"""

from __future__ import annotations

from tinygrad_lite.ops.elementwise import (
    Abs,
    Add,
    Div,
    Exp,
    Log,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sub,
    Tanh,
)
from tinygrad_lite.ops.losses import Affine, SSELoss
from tinygrad_lite.ops.matmul import Matmul
from tinygrad_lite.ops.movement import Expand, Index, IndexAdd, Permute, Reshape
from tinygrad_lite.ops.reductions import Max, Sum

__all__ = [
    "Abs",
    "Add",
    "Affine",
    "Div",
    "Exp",
    "Expand",
    "Index",
    "IndexAdd",
    "Log",
    "Matmul",
    "Max",
    "Mul",
    "Neg",
    "Permute",
    "Pow",
    "Relu",
    "Reshape",
    "SSELoss",
    "Sigmoid",
    "Sub",
    "Sum",
    "Tanh",
]
