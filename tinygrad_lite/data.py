"""Mini-batches: ``tl.data.batches(X, y, batch_size=32, rng=rng)``, one epoch per call.

>>> import numpy as np
>>> from tinygrad_lite import data
>>> X, y = np.arange(10.0).reshape(5, 2), np.array([0, 1, 2, 3, 4])   # y: the row's number
>>> epoch = data.batches(X, y, batch_size=2, rng=np.random.default_rng(0))
>>> len(epoch)                      # batches in this epoch: 2 + 2 + 1 rows
3
>>> for xb, yb in epoch:
...     print(xb.shape, yb.tolist())
(2, 2) [2.0, 4.0]
(2, 2) [3.0, 0.0]
(1, 2) [1.0]

Each call draws one permutation of the rows from ``rng`` (a numpy ``Generator`` or
``RandomState``) and returns an iterator over it: the same generator in the same state
gives the same batches, and calling again gives the next epoch's order. Every batch is a
tuple with one Tensor per array, holding copies of the rows (so changing a batch never
changes the data); as for any Tensor, integers and bools become float64 (class labels
come as whole numbers) and float32 stays float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_lite.convert import check_rng, to_array
from tinygrad_lite.shapes import short_repr
from tinygrad_lite.tensor import Tensor

__all__ = ["Batches", "batches"]


def batches(
    *arrays: Any,
    batch_size: int,
    shuffle: bool = True,
    rng: Any = None,
    drop_last: bool = False,
) -> Batches:
    """One epoch of mini-batches of the rows of ``arrays`` (all of one length along axis 0).

    - ``batch_size``: rows per batch, an int >= 1; the last batch may be smaller, unless
      ``drop_last=True`` leaves it out (PyTorch's DataLoader's rules).
    - ``shuffle``: rows in an order drawn from ``rng`` now, at the call (True), or in the
      order given (False: ``rng`` is not used).
    - ``rng``: a numpy ``Generator`` or ``RandomState``; None takes a fresh
      ``numpy.random.default_rng()``, so that the order is not repeatable.
    - ``arrays``: numpy arrays, nested lists, or Tensors that do not require grad (batches
      are data, not part of a graph: pass ``t.detach()``).

    Everything is checked at the call, before the first batch; a mismatch in lengths, a
    bad batch size or a bad rng is a clear error.
    """
    if not arrays:
        raise TypeError("batches: needs at least one array, e.g. batches(X, y, batch_size=32)")
    tables = [_table(i, a) for i, a in enumerate(arrays)]
    n = len(tables[0])
    for i, table in enumerate(tables[1:], start=1):
        if len(table) != n:
            raise ValueError(
                f"batches: array 0 has {n} rows but array {i} has {len(table)}; every array "
                f"needs one row per sample (the same length along axis 0)"
            )
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batches: batch_size must be an int, got {short_repr(batch_size)}")
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be at least 1, got {batch_size}")
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"batches: {name} must be True or False, got {short_repr(flag)}")
    rng = check_rng("batches", rng)  # None: a fresh numpy.random.default_rng()
    order = rng.permutation(n) if shuffle else np.arange(n)
    stops = range(batch_size, n + batch_size, batch_size)
    if drop_last:
        stops = range(batch_size, n + 1, batch_size)
    return Batches(tables, order, [(stop - batch_size, min(stop, n)) for stop in stops])


class Batches:
    """The batches of one epoch, in order: an iterator with a length (for a progress bar)."""

    def __init__(
        self, tables: list[np.ndarray], order: np.ndarray, bounds: list[tuple[int, int]]
    ) -> None:
        self.tables = tables
        self.order = order  # the row of each position, drawn when the epoch was made
        self.bounds = bounds  # (start, stop) of each batch in order
        self.position = 0  # the batch to give next

    def __len__(self) -> int:
        """The number of batches this epoch holds in all."""
        return len(self.bounds)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        return self

    def __next__(self) -> tuple[Tensor, ...]:
        if self.position == len(self.bounds):
            raise StopIteration
        start, stop = self.bounds[self.position]
        self.position += 1
        rows = self.order[start:stop]
        # table.take(rows, axis=0) is table[rows], in about half the time for a 2-d table
        return tuple([Tensor._from_op(table.take(rows, axis=0)) for table in self.tables])


def _table(i: int, array: Any) -> np.ndarray:
    """The i-th array given to ``batches``, as a numpy array of numbers with a row axis."""
    if isinstance(array, Tensor):
        if array.requires_grad:
            raise ValueError(
                f"batches: array {i} is a Tensor that requires grad; batches are data, not "
                f"part of a graph: pass it detached (t.detach())"
            )
        array = array.data
    try:
        table = np.asarray(array)
    except ValueError:
        raise ValueError(
            f"batches: array {i} is {short_repr(array)}, which is not rectangular (the same "
            f"length at each depth); accepted: numpy arrays, nested lists or Tensors of numbers"
        ) from None
    if table.dtype.kind not in "biuf":
        raise TypeError(
            f"batches: array {i} holds values of dtype {table.dtype}; accepted: numpy "
            f"arrays, nested lists or Tensors of numbers"
        )
    if table.ndim == 0:
        raise ValueError(
            f"batches: array {i} is a single number; accepted: arrays with one row per "
            f"sample along axis 0"
        )
    # In a Tensor's dtype once, here, rather than batch by batch (labels: ints become
    # float64): each batch's rows are then a fresh copy (``take`` copies) that its Tensor
    # can hold as it is.
    if table.dtype not in (np.float32, np.float64):
        table = to_array(table, None)
    return table
