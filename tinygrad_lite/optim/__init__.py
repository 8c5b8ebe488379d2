"""Optimizers: SGD and Adam update parameters in place from their ``.grad``
(``optimizers.py``)."""

from __future__ import annotations

from tinygrad_lite.optim.optimizers import SGD, Adam, Optimizer

__all__ = ["SGD", "Adam", "Optimizer"]
