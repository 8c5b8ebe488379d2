"""Layers, models and losses: networks declared from parts, trained with ``backward()``.

>>> import numpy as np
>>> from tinygrad_lite import Tensor, nn
>>> model = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(0)), nn.Sigmoid())
>>> model
Sequential(
  (0): Linear(in_features=3, out_features=4, bias=True)
  (1): Sigmoid()
)
>>> [name for name, p in model.named_parameters()]
['0.weight', '0.bias']
>>> loss = nn.sse_loss(model(Tensor([[0.0, 1.0, 1.0]])), Tensor([[0.0, 1.0, 1.0, 0.0]]))
>>> loss.backward()
>>> model[0].weight.grad.shape
(3, 4)

``module.py`` holds ``Module`` and ``Sequential``, ``layers.py`` the layers, ``functional.py``
convolution, pooling and dropout as functions, ``losses.py`` the loss functions (and
``one_hot``), ``init.py`` the initialisers, ``utils.py`` gradient clipping (``nn.utils``)
and ``serialization.py`` ``tl.save`` and ``tl.load`` for state dicts.
"""

from __future__ import annotations

from tinygrad_lite.nn import init, utils
from tinygrad_lite.nn.functional import avg_pool2d, conv2d, dropout, max_pool2d
from tinygrad_lite.nn.layers import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinygrad_lite.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
    one_hot,
    sse_loss,
)
from tinygrad_lite.nn.module import IncompatibleKeys, Module, Sequential

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "IncompatibleKeys",
    "Linear",
    "LogSoftmax",
    "MaxPool2d",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "avg_pool2d",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "init",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "sse_loss",
    "utils",
]
