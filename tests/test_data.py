"""tl.data.batches: every row once per epoch, rows of the arrays kept together, explicit rng."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, data


def rows_of(epoch: Any) -> list[int]:
    """The row numbers an epoch gave, in order, read from a column holding them."""
    return [int(v) for batch in epoch for v in batch[-1].data]


@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_an_epoch_gives_every_row_once_in_batches_of_batch_size(
    n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int
) -> None:
    X = np.arange(3 * n, dtype=np.float64).reshape(n, 3)  # noqa: N806
    index = np.arange(n)
    epoch = data.batches(
        X,
        index,
        batch_size=batch_size,
        shuffle=shuffle,
        rng=np.random.default_rng(seed),
        drop_last=drop_last,
    )
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(epoch) == expected_len
    got = list(epoch)
    assert len(got) == expected_len
    assert list(epoch) == []  # one epoch per call
    sizes = [len(yb.data) for _, yb in got]
    assert all(s == batch_size for s in sizes[:-1])
    if got:
        assert 1 <= sizes[-1] <= batch_size and (not drop_last or sizes[-1] == batch_size)
    order = rows_of(got)
    assert len(set(order)) == len(order) == (n // batch_size * batch_size if drop_last else n)
    if not shuffle:
        assert order == list(range(len(order)))
    for xb, yb in got:  # each row of X stays with its own label
        assert isinstance(xb, Tensor) and not xb.requires_grad
        assert np.array_equal(xb.data, X[yb.data.astype(int)])


def test_the_order_comes_from_the_rng_at_the_call() -> None:
    X = np.arange(100.0)  # noqa: N806
    a = rows_of(data.batches(X, batch_size=7, rng=np.random.default_rng(5)))
    rng = np.random.default_rng(5)
    epoch = data.batches(X, batch_size=7, rng=rng)
    rng.random(3)  # drawing after the call does not change the epoch already made
    assert rows_of(epoch) == a
    assert a == np.random.default_rng(5).permutation(100).tolist()
    assert rows_of(data.batches(X, batch_size=7, rng=rng)) != a  # the next epoch's order
    legacy = rows_of(data.batches(X, batch_size=7, rng=np.random.RandomState(5)))
    assert legacy == np.random.RandomState(5).permutation(100).tolist()
    unseeded = rows_of(data.batches(X, batch_size=7))
    assert sorted(unseeded) == list(range(100))


def test_batches_copy_and_keep_dtypes_as_a_tensor_does() -> None:
    X32 = np.ones((4, 2), dtype=np.float32)  # noqa: N806
    labels = np.array([1, 0, 3, 2])
    xb, yb, bb = next(data.batches(X32, labels, labels > 1, batch_size=4, shuffle=False))
    assert xb.dtype == np.float32 and yb.dtype == np.float64 and bb.dtype == np.float64
    assert yb.tolist() == [1.0, 0.0, 3.0, 2.0] and bb.tolist() == [0.0, 0.0, 1.0, 1.0]
    xb.data[:] = 7
    assert X32.max() == 1  # the batch is a copy
    (only,) = next(data.batches([[1, 2], [3, 4]], batch_size=1, shuffle=False))
    assert only.tolist() == [[1.0, 2.0]]
    source = Tensor([5.0, 6.0])
    (t,) = next(data.batches(source, batch_size=2, shuffle=False))
    assert t.tolist() == [5.0, 6.0]
    t.data[:] = 0.0
    assert source.tolist() == [5.0, 6.0]  # a float64 table is not converted, still copied


def test_tl_data_is_the_module() -> None:
    assert tl.data is data and tl.data.batches is data.batches


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((), {"batch_size": 2}, TypeError, "at least one array"),
        ((np.zeros(3), np.zeros(4)), {"batch_size": 2}, ValueError, "3 rows but array 1 has 4"),
        ((np.zeros(3),), {"batch_size": 0}, ValueError, "at least 1, got 0"),
        ((np.zeros(3),), {"batch_size": 2.0}, TypeError, "must be an int"),
        ((np.zeros(3),), {"batch_size": True}, TypeError, "must be an int"),
        ((np.zeros(3),), {"batch_size": 2, "rng": 0}, TypeError, "rng must be a numpy"),
        ((np.zeros(3),), {"batch_size": 2, "shuffle": False, "rng": 0}, TypeError, "rng must"),
        ((np.zeros(3),), {"batch_size": 2, "shuffle": 1}, TypeError, "shuffle must be True"),
        ((np.zeros(3),), {"batch_size": 2, "drop_last": None}, TypeError, "drop_last must"),
        ((np.float64(3.0),), {"batch_size": 2}, ValueError, "single number"),
        ((["a", "b"],), {"batch_size": 2}, TypeError, "dtype <U1"),
        (([[1, 2], [3]],), {"batch_size": 2}, ValueError, "not rectangular"),
        ((Tensor([1.0], requires_grad=True),), {"batch_size": 1}, ValueError, "requires grad"),
    ],
)
def test_bad_arguments_are_clear_errors_at_the_call(
    args: tuple, kwargs: dict, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        data.batches(*args, **kwargs)


def test_batch_size_is_keyword_only() -> None:
    with pytest.raises(TypeError, match="batch_size"):
        data.batches(np.zeros(3), 2)  # type: ignore[call-arg]


def test_the_training_pieces_together_learn_the_digits() -> None:
    # Mini-batches of the shipped digits, Kaiming init, Nesterov SGD with weight decay, a
    # cosine schedule, gradient clipping, train/eval: a small MLP on squared error against
    # one-hot targets (no softmax needed) classifies most of the test set.
    from models import digits
    from tinygrad_lite import init, nn, optim

    split = digits.load_split()
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Linear.from_weights(init.kaiming_uniform((64, 32), rng=rng), np.zeros(32)),
        nn.ReLU(),
        nn.Linear(32, 10, rng=rng),
    )
    opt = optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
    targets = np.eye(10)[split.y_train]
    for _ in range(8):
        model.train()
        for xb, yb in data.batches(split.x_train, targets, batch_size=32, rng=rng):
            opt.zero_grad()
            nn.mse_loss(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            opt.step()
        schedule.step()
    model.eval()
    with tl.no_grad():
        predicted = model(Tensor(split.x_test)).data.argmax(axis=1)
    assert (predicted == split.y_test).mean() >= 0.9
    assert opt.lr == 0.0  # the end of the cosine
