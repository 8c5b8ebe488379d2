"""The primitive operations: each a Function with its forward and its backward side by side.

One file per family: ``elementwise.py`` (add, mul, exp, sigmoid, where, maximum, ...),
``reductions.py`` (sum, max, softmax, log-softmax), ``movement.py`` (expand, reshape,
permute, index, cat), ``matmul.py``, ``conv.py`` (the sliding windows of convolution and
pooling, and max pooling over windows side by side), and ``losses.py``, fused ops that save
nodes on every training step (an affine map on a batch of rows, the sum-of-squares loss,
softmax cross-entropy). Each docstring
states the op's math in the code's own names: ``out`` is the result, ``grad`` the gradient
of the final output with respect to ``out``, and ``dx``, ``dy`` what the backward returns
for the inputs ``x``, ``y``.
"""

from __future__ import annotations

from tinygrad_lite.ops.conv import Col2im, Im2col, MaxPool
from tinygrad_lite.ops.elementwise import (
    Abs,
    Add,
    Cast,
    Div,
    Exp,
    Log,
    Masked,
    Maximum,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sqrt,
    Sub,
    Tanh,
    Where,
)
from tinygrad_lite.ops.losses import Affine, CrossEntropy, SSELoss
from tinygrad_lite.ops.matmul import Matmul, matrix_product
from tinygrad_lite.ops.movement import Cat, Expand, Index, IndexAdd, Permute, Reshape
from tinygrad_lite.ops.reductions import LogSoftmax, Max, Softmax, Sum

__all__ = [
    "Abs",
    "Add",
    "Affine",
    "Cast",
    "Cat",
    "Col2im",
    "CrossEntropy",
    "Div",
    "Exp",
    "Expand",
    "Im2col",
    "Index",
    "IndexAdd",
    "Log",
    "LogSoftmax",
    "Masked",
    "Matmul",
    "Max",
    "MaxPool",
    "Maximum",
    "Mul",
    "Neg",
    "Permute",
    "Pow",
    "Relu",
    "Reshape",
    "SSELoss",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Sub",
    "Sum",
    "Tanh",
    "Where",
    "matrix_product",
]
