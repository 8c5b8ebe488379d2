"""The 8x8 handwritten digits: 1797 images of 10 classes, shipped with the package.

The data is the test set of the UCI "Optical Recognition of Handwritten Digits" (E.
Alpaydin and C. Kaynak, 1998; CC BY 4.0), the copy scikit-learn bundles; its source,
licence and checksum are in ``models/data/README.md``. It is read from the installed
package: nothing is downloaded, and scikit-learn is not needed.

>>> X, y = load_digits()
>>> X.shape, X.dtype, y.shape, y.dtype
((1797, 64), dtype('float64'), (1797,), dtype('int64'))
>>> float(X.min()), float(X.max()), y[:10].tolist()
(0.0, 1.0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
>>> split = load_split()
>>> split.x_train.shape, split.x_test.shape
((1438, 64), (359, 64))

Each row is an image read row by row: ``X.reshape(-1, 1, 8, 8)`` gives the NCHW images a
convolution takes.
"""

from __future__ import annotations

import gzip
from importlib import resources
from typing import NamedTuple

import numpy as np

N_SAMPLES = 1797
N_CLASSES = 10
PIXEL_MAX = 16  # each pixel counts the ink in a 4x4 block of a 32x32 bitmap: 0..16

# The fixed split: every class split 80/20, drawn by RandomState(SPLIT_SEED).
TEST_FRACTION = 0.2
SPLIT_SEED = 0
N_TRAIN, N_TEST = 1438, 359


class Split(NamedTuple):
    """A train/test split of the digits: inputs (n, 64) float64, labels (n,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits, in the file's order: ``(X, y)``.

    ``X`` is float64 of shape (1797, 64), the pixels divided by 16 so that they lie in
    [0, 1] (the division is exact: 16 is a power of two); ``y`` is int64 of shape (1797,),
    the digit 0-9 each image shows.
    """
    shipped = resources.files("models").joinpath("data", "digits.csv.gz")
    with shipped.open("rb") as raw, gzip.open(raw) as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    if table.shape != (N_SAMPLES, 64 + 1):
        raise RuntimeError(
            f"load_digits: the shipped digits.csv.gz holds a table of shape {table.shape}, "
            f"not ({N_SAMPLES}, 65); the installed package is damaged, reinstall it"
        )
    pixels, labels = table[:, :64], table[:, 64]
    return pixels / PIXEL_MAX, labels


def split_indices(
    labels: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of a stratified split: of each class's n samples,
    ``round(test_fraction * n)`` go to the test set.

    One permutation of all the samples is drawn from ``numpy.random.RandomState(seed)``
    (whose streams numpy keeps the same across versions, unlike ``Generator``'s); the
    first samples of each class in that order are its test samples. Both index arrays
    keep the permuted order, so neither set is sorted by class.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"split_indices: labels must be 1-D, got shape {labels.shape}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"split_indices: test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.RandomState(seed).permutation(len(labels))
    in_test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        of_class = order[labels[order] == c]  # class c's samples, in the permuted order
        in_test[of_class[: round(test_fraction * len(of_class))]] = True
    return order[~in_test[order]], order[in_test[order]]


def load_split(test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> Split:
    """The digits split into train and test sets, stratified by class (``split_indices``).

    With the defaults, the fixed split every model and test uses: 1438 training and 359
    test images (20% of each class, rounded), drawn with seed 0.
    """
    X, y = load_digits()  # noqa: N806 (the usual name of a design matrix)
    train, test = split_indices(y, test_fraction, seed)
    return Split(X[train], y[train], X[test], y[test])
