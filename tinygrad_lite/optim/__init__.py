"""Optimizers update parameters in place from their ``.grad`` (``optimizers.py``: SGD,
Adam, AdamW, RMSprop, Adagrad); ``lr_scheduler`` changes their learning rate from epoch to
epoch (``lr_scheduler.py``: StepLR, CosineAnnealingLR)."""

from __future__ import annotations

from tinygrad_lite.optim import lr_scheduler
from tinygrad_lite.optim.optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    ParamGroup,
    RMSprop,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "ParamGroup",
    "RMSprop",
    "lr_scheduler",
]
