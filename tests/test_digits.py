"""The digits data set shipped with models: the file, what load_digits reads, the fixed split."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from models import digits

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "models" / "data" / "digits.csv.gz"
# scikit-learn 1.9.1's sklearn/datasets/data/digits.csv.gz, as models/data/README.md says.
SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_the_shipped_file_is_scikit_learns_copy() -> None:
    data = DATA.read_bytes()
    assert len(data) < 100_000
    assert hashlib.sha256(data).hexdigest() == SHA256


def test_the_file_is_package_data_and_its_licence_is_stated() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = config["tool"]["setuptools"]["package-data"]["models"]
    assert "data/digits.csv.gz" in shipped and "data/README.md" in shipped
    readme = (ROOT / "models" / "data" / "README.md").read_text()
    for words in ("CC BY 4.0", "Alpaydin", "Kaynak", "UCI", SHA256):
        assert words in readme


def test_load_digits_shapes_dtypes_scale_and_classes() -> None:
    X, y = digits.load_digits()  # noqa: N806
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == CLASS_COUNTS
    pixels = X * 16
    assert np.array_equal(pixels, np.round(pixels))  # the counts 0..16, divided exactly
    assert pixels.min() == 0 and pixels.max() == 16
    # The first image is a 0: a ring of ink around an empty middle.
    image = X[0].reshape(8, 8)
    assert y[0] == 0 and image[3:5, 3:5].max() == 0 and image[:, 1:7].sum() > 5
    assert int(pixels.sum()) == 561_718  # every count exact, so the sum is too


def test_load_digits_returns_fresh_arrays() -> None:
    X, _ = digits.load_digits()  # noqa: N806
    X[:] = -1
    assert digits.load_digits()[0].min() == 0


def test_the_default_split_is_fixed() -> None:
    split = digits.load_split()
    assert split.x_train.shape == (digits.N_TRAIN, 64) and split.x_test.shape == (digits.N_TEST, 64)
    assert (digits.N_TRAIN, digits.N_TEST) == (1438, 359)
    _, y = digits.load_digits()
    train, test = digits.split_indices(y)
    assert test[:8].tolist() == [1081, 1707, 927, 713, 262, 182, 303, 895]
    digest = hashlib.sha256(test.astype("<i8").tobytes()).hexdigest()
    assert digest == "2cea339a522480cc1a21b706b1011485cf196d30d9d616d04bb22972db9be0a6"
    assert np.array_equal(split.y_test, y[test]) and np.array_equal(split.y_train, y[train])


def test_the_split_is_stratified_disjoint_and_covers_every_image() -> None:
    _, y = digits.load_digits()
    train, test = digits.split_indices(y)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(1797))
    expected = [round(0.2 * n) for n in CLASS_COUNTS]
    assert np.bincount(y[test]).tolist() == expected
    assert np.bincount(y[train]).tolist() == [n - k for n, k in zip(CLASS_COUNTS, expected)]
    assert not np.all(np.diff(y[train]) >= 0)  # shuffled, not sorted by class


def test_another_seed_or_fraction_gives_another_split() -> None:
    _, y = digits.load_digits()
    assert not np.array_equal(digits.split_indices(y, seed=1)[1], digits.split_indices(y)[1])
    assert len(digits.load_split(test_fraction=0.5).y_test) == sum(
        round(0.5 * n) for n in CLASS_COUNTS
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": np.zeros((3, 2))}, "must be 1-D"),
        ({"labels": np.zeros(3), "test_fraction": 0.0}, r"must be in \(0, 1\)"),
        ({"labels": np.zeros(3), "test_fraction": 1.5}, r"must be in \(0, 1\)"),
    ],
)
def test_bad_split_arguments_are_clear_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        digits.split_indices(**kwargs)
