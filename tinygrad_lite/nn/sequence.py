"""Layers for sequences: ``Embedding`` (a lookup table of vectors) and ``RNNCell`` (one time
step of a recurrent network), each a Module.

An RNN over a sequence is a Python loop over its steps, calling the same cell each time:

>>> import numpy as np
>>> from tinygrad_lite import Tensor, nn
>>> cell = nn.RNNCell(3, 4, rng=np.random.default_rng(0))
>>> h = None                                    # zeros, as in PyTorch
>>> for x in Tensor(np.eye(3)):                 # three steps, one one-hot input each
...     h = cell(x, h)
>>> h.sum().backward()                          # backprop through the three steps
>>> cell.weight_hh.grad.shape                   # three contributions, added by the engine
(4, 4)

Weights are laid out as ``nn.Linear``'s, (in, out), so that a step reads ``x @ weight``.
The input weight of a one-hot input is therefore a lookup table: row ``c`` of
``weight_ih`` is what character ``c`` adds to the hidden state, the row an ``Embedding``
holding ``weight_ih`` returns for ``c``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.nn import init
from tinygrad_lite.nn.functional import _check_size
from tinygrad_lite.nn.module import Module
from tinygrad_lite.ops import Affine, Matmul
from tinygrad_lite.tensor import Tensor

NONLINEARITIES = ("tanh", "relu")


class Embedding(Module):
    """out = weight[indices]    dweight = grad added into the rows that were looked up

    A table of ``num_embeddings`` vectors of ``embedding_dim`` numbers, PyTorch's layout
    (num_embeddings, embedding_dim): ``indices`` of any shape (ints, or whole floats) give
    an output of shape ``indices.shape + (embedding_dim,)``. A row looked up several times
    gets the sum of the gradients of every place it went (``Index``'s rule).

    Default init, as PyTorch's: N(0, 1), drawn from ``rng``, a numpy Generator or
    RandomState (``rng=None``: a fresh ``numpy.random.default_rng()``). For given values,
    ``Embedding.from_pretrained(weight, freeze=True)``.
    """

    weight: Tensor

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Any = None) -> None:
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            _check_size("Embedding", name, n)
        rng = np.random.default_rng() if rng is None else init.check_rng("Embedding", rng)
        values = init.normal((num_embeddings, embedding_dim), rng=rng)
        self._set(values, requires_grad=True)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, embedding_dim);
        with ``freeze=True`` (PyTorch's default) its weight does not require grad.

        >>> table = Embedding.from_pretrained([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
        >>> table([2, 0, 2])
        Tensor([[3., 3.],
                [1., 0.],
                [3., 3.]])
        """
        if not isinstance(freeze, (bool, np.bool_)):
            raise TypeError(
                f"Embedding.from_pretrained: freeze must be True or False, got {freeze!r}"
            )
        layer = cls.__new__(cls)
        layer._set(embeddings, requires_grad=not freeze)
        return layer

    def _set(self, values: Any, requires_grad: bool) -> None:
        weight = Tensor(values, requires_grad=requires_grad)
        if weight.ndim != 2 or 0 in weight.shape:
            raise ValueError(
                f"Embedding: weight must be 2-D (num_embeddings, embedding_dim) with no zero "
                f"size, got shape {weight.shape}"
            )
        self.num_embeddings, self.embedding_dim = weight.shape
        self.weight = weight

    def forward(self, indices: Any) -> Tensor:
        return self.weight[_indices(indices, self.num_embeddings)]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class RNNCell(Module):
    """h' = tanh(x @ weight_ih + bias_ih + h @ weight_hh + bias_hh): one step of an RNN.

    An Elman cell, PyTorch's ``nn.RNNCell`` with the same parameter names and the same
    order of operations, ``tanh((x @ weight_ih + bias_ih) + (h @ weight_hh + bias_hh))``
    (``nonlinearity="relu"``: relu instead of tanh). ``x`` has shape (batch, input_size)
    or (input_size,), ``h`` the matching (batch, hidden_size) or (hidden_size,), or None
    for zeros; the result has ``h``'s shape.

    Layout: ``weight_ih`` is (input_size, hidden_size) and ``weight_hh`` (hidden_size,
    hidden_size), the transposes of PyTorch's, for the reason ``nn.Linear`` gives: the
    forward is ``x @ weight`` on rows, as hand-written numpy writes it (``dot(h, Whh)``).
    To load PyTorch's weights, transpose them. The two parentheses above are each one
    ``Affine`` node (or a ``Matmul`` without biases), then an ``Add`` and the nonlinearity:
    four nodes a step.

    Default init, as PyTorch's: every parameter from U[-1/sqrt(hidden_size),
    1/sqrt(hidden_size)), drawn in the order weight_ih, weight_hh, bias_ih, bias_hh from
    ``rng`` (a numpy Generator or RandomState; None: a fresh ``default_rng()``). For given
    values, ``RNNCell.from_weights``.
    """

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None
    bias_hh: Tensor | None

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        rng: Any = None,
    ) -> None:
        for name, n in (("input_size", input_size), ("hidden_size", hidden_size)):
            _check_size("RNNCell", name, n)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"RNNCell: bias must be True or False, got {bias!r}")
        rng = np.random.default_rng() if rng is None else init.check_rng("RNNCell", rng)
        bound = 1.0 / math.sqrt(hidden_size)
        weight_ih = init.uniform((input_size, hidden_size), -bound, bound, rng=rng)
        weight_hh = init.uniform((hidden_size, hidden_size), -bound, bound, rng=rng)
        bias_ih = init.uniform((hidden_size,), -bound, bound, rng=rng) if bias else None
        bias_hh = init.uniform((hidden_size,), -bound, bound, rng=rng) if bias else None
        self._set(weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity)

    @classmethod
    def from_weights(
        cls,
        weight_ih: Any,
        weight_hh: Any,
        bias_ih: Any = None,
        bias_hh: Any = None,
        nonlinearity: str = "tanh",
    ) -> RNNCell:
        """An RNNCell holding copies of these values: ``weight_ih`` (input_size,
        hidden_size), ``weight_hh`` (hidden_size, hidden_size), and both biases
        (hidden_size,) or neither (None).

        >>> RNNCell.from_weights([[1.0, 0.0]], [[0.5, 0.0], [0.0, 0.5]])
        RNNCell(1, 2, bias=False)
        """
        layer = cls.__new__(cls)
        layer._set(weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity)
        return layer

    def _set(
        self, weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any, nonlinearity: str
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"RNNCell: unknown nonlinearity {nonlinearity!r}; accepted: 'tanh', 'relu'"
            )
        if (bias_ih is None) != (bias_hh is None):
            raise ValueError("RNNCell: give both biases (bias_ih and bias_hh) or neither")
        # Attributes in PyTorch's order of parameters: weight_ih, weight_hh, bias_ih, bias_hh.
        self.weight_ih = Tensor(weight_ih, requires_grad=True)
        dtype = self.weight_ih.dtype
        self.weight_hh = Tensor(weight_hh, requires_grad=True, dtype=dtype)
        self.bias_ih = _parameter(bias_ih, dtype)
        self.bias_hh = _parameter(bias_hh, dtype)
        if self.weight_ih.ndim != 2 or 0 in self.weight_ih.shape:
            raise ValueError(
                f"RNNCell: weight_ih must be 2-D (input_size, hidden_size), got shape "
                f"{self.weight_ih.shape}"
            )
        self.input_size, self.hidden_size = self.weight_ih.shape
        self.nonlinearity = nonlinearity
        hidden = self.hidden_size
        wanted = [
            ("weight_hh", self.weight_hh, (hidden, hidden)),
            ("bias_ih", self.bias_ih, (hidden,)),
            ("bias_hh", self.bias_hh, (hidden,)),
        ]
        for name, t, shape in wanted:
            if t is not None and t.shape != shape:
                raise ValueError(
                    f"RNNCell: {name} must have shape {shape} to fit a weight_ih of shape "
                    f"{self.weight_ih.shape}, got {t.shape}"
                )

    def forward(self, x: Any, h: Any = None) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        batched = x.ndim == 2
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"RNNCell: input has shape {x.shape}; accepted: (batch, {self.input_size}) or "
                f"({self.input_size},)"
            )
        wanted = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if h is None:
            h = Tensor(np.zeros(wanted, dtype=self.weight_hh.dtype))
        elif not isinstance(h, Tensor):
            h = Tensor(h)
        if h.shape != wanted:
            raise ValueError(
                f"RNNCell: hidden state has shape {h.shape} for an input of shape {x.shape}; "
                f"accepted: {wanted}"
            )
        if not batched:
            x, h = x.reshape(1, self.input_size), h.reshape(1, self.hidden_size)
        z = _linear(x, self.weight_ih, self.bias_ih) + _linear(h, self.weight_hh, self.bias_hh)
        out = z.tanh() if self.nonlinearity == "tanh" else z.relu()
        return out if batched else out.reshape(self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias_ih is None:
            text += ", bias=False"
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """x @ w + b on a batch of rows: one Affine node (a Matmul without b)."""
    return Matmul.apply(x, w) if b is None else Affine.apply(x, w, b)


def _indices(indices: Any, n: int) -> np.ndarray:
    """``indices`` as an integer array of values in 0 to n-1, or a clear error."""
    values = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"Embedding: indices must be ints (or whole floats), got an array of dtype "
            f"{values.dtype}"
        )
    if values.dtype.kind == "f":
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            raise ValueError(
                f"Embedding: indices must be whole numbers, got {values[~whole].flat[0]:g}"
            )
    outside = (values < 0) | (values >= n)
    if outside.any():
        raise IndexError(
            f"Embedding: index {values[outside].flat[0]:g} is out of range for {n} "
            f"embeddings; accepted: 0 to {n - 1}"
        )
    return values.astype(np.intp)


def _parameter(values: Any, dtype: Any) -> Tensor | None:
    return None if values is None else Tensor(values, requires_grad=True, dtype=dtype)
