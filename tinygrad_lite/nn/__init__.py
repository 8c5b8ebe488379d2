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

``module.py`` holds ``Module`` and ``Sequential``, ``layers.py`` the layers, ``losses.py``
the loss functions, ``init.py`` the initialisers, ``utils.py`` gradient clipping
(``nn.utils``) and ``serialization.py`` ``tl.save`` and ``tl.load`` for state dicts.
"""

from __future__ import annotations

from tinygrad_lite.nn import init, utils
from tinygrad_lite.nn.layers import Linear, ReLU, Sigmoid, Tanh
from tinygrad_lite.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
    sse_loss,
)
from tinygrad_lite.nn.module import IncompatibleKeys, Module, Sequential

__all__ = [
    "IncompatibleKeys",
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "init",
    "mse_loss",
    "sse_loss",
    "utils",
]
