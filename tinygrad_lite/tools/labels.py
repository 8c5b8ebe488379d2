"""How the study tools (``viz``, ``trace``) name the tensors they show.

A user names tensors with ``names=``: a mapping of name to tensor, such as
``dict(model.named_parameters())`` or a state dict, a list of (name, tensor) pairs, or a
Module (anything with ``named_parameters()``).

>>> import tinygrad_lite as tl
>>> w = tl.Tensor([1.0, 2.0], requires_grad=True)
>>> table = name_table({"w": w})
>>> lookup(table, w), lookup(table, tl.Tensor(1.0))
('w', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

ACCEPTED = "accepted: a mapping of name to tensor, a list of (name, tensor) pairs, or a Module"


def name_table(names: Any) -> dict[int, str]:
    """``names`` as {id of a tensor, or of the array it holds: name}.

    Arrays count too, because a state dict may hold the parameters' arrays rather than the
    Tensors themselves.
    """
    if names is None:
        return {}
    if isinstance(names, (str, bytes)) or hasattr(names, "shape"):
        raise TypeError(f"names: got {type(names).__name__}; {ACCEPTED}")
    if hasattr(names, "named_parameters"):
        names = names.named_parameters()
    pairs: Iterable[Any] = names.items() if isinstance(names, Mapping) else names
    table: dict[int, str] = {}
    try:
        for name, value in pairs:
            table[id(value)] = str(name)
            array = getattr(value, "data", None)
            if isinstance(array, np.ndarray):  # a Tensor: match the tensor or its array
                table[id(array)] = str(name)
    except (TypeError, ValueError):
        raise TypeError(f"names: got {type(names).__name__}; {ACCEPTED}") from None
    return table


def lookup(table: dict[int, str], tensor: Any) -> str | None:
    """The name ``table`` gives ``tensor`` (by the tensor or by its array), or None."""
    return table.get(id(tensor), table.get(id(tensor.data)))


def number(value: float) -> str:
    """A float in 4 significant digits, as graphs and tables show values."""
    return f"{value:.4g}"


def rules(fn: Any) -> list[str]:
    """The op's math from the first line of its docstring: ``[out = ..., dx = ..., ...]``.

    Every op states it so, formulas separated by runs of spaces:
    ``out = 1/(1+exp(-x))    dx = grad * (out*(1-out))``, or element by element,
    ``out[i, j] = ...``. An op documented otherwise has no rule to show: ``[""]``.
    """
    doc = (type(fn).__doc__ or "").strip().splitlines()
    parts = re.split(r"\s{3,}", doc[0].strip()) if doc else []
    if not parts or not parts[0].startswith(("out =", "out[")):
        return [""]
    return parts


def tangent_rule(fn: Any) -> str:
    """The op's forward-mode rule, the ``out_t = ...`` line of its docstring, or "".

    >>> from tinygrad_lite.ops import Mul
    >>> tangent_rule(Mul())
    'out_t = x_t * y + x * y_t'
    """
    for line in (type(fn).__doc__ or "").splitlines():
        if line.strip().startswith("out_t ="):
            return line.strip()
    return ""


def argument_names(fn: Any, count: int) -> list[str]:
    """The names the op's rule gives its ``count`` inputs: ``pred`` for ``dpred = ...``.

    Read from the backward formulas of the docstring (one ``dNAME = ...`` per input, in
    order); without them, ``x, y, z``, then ``in3, in4, ...``.

    >>> from tinygrad_lite.ops import Mul
    >>> argument_names(Mul(), 2)
    ['x', 'y']
    """
    names = [part.split("=", 1)[0].strip() for part in rules(fn)[1:]]
    if len(names) == count and all(n.startswith("d") and n[1:].isidentifier() for n in names):
        return [n[1:] for n in names]
    return ["xyz"[i] if i < 3 else f"in{i}" for i in range(count)]
