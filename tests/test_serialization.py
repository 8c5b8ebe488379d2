"""save/load: exact round trips, atomic writes, and refusal of files that are not ours."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn
from tinygrad_lite.nn import serialization


def state() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "0.weight": rng.normal(size=(3, 4)),
        "0.bias": rng.normal(size=4).astype(np.float32),
        "2.weight": np.array([[np.nan, -0.0], [np.inf, 5e-324]]),
        "steps": np.arange(3),
    }


def test_round_trip_is_bit_exact_and_keeps_order_and_dtypes(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    saved = state()
    tl.save(saved, path)
    loaded = tl.load(path)
    assert list(loaded) == list(saved)
    for name, array in saved.items():
        assert loaded[name].dtype == array.dtype, name
        assert loaded[name].shape == array.shape, name
        assert loaded[name].tobytes() == array.tobytes(), name


def test_a_model_round_trip(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(0)), nn.Tanh())
    tl.save(model.state_dict(), str(tmp_path / "model"))  # a str path, used as given
    assert os.listdir(tmp_path) == ["model"]
    other = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(1)), nn.Tanh())
    other.load_state_dict(tl.load(tmp_path / "model"))
    for p, q in zip(model.parameters(), other.parameters()):
        assert p.data.tobytes() == q.data.tobytes()


def test_tensors_are_saved_as_their_arrays(tmp_path: Path) -> None:
    tl.save({"w": Tensor([1.0, 2.0], requires_grad=True)}, tmp_path / "w.npz")
    assert tl.load(tmp_path / "w.npz")["w"].tolist() == [1.0, 2.0]


def test_names_that_numpy_savez_would_choke_on_are_fine(tmp_path: Path) -> None:
    # np.savez takes names as keyword arguments, next to its own `file` and `allow_pickle`.
    saved = {"file": np.ones(1), "allow_pickle": np.zeros(1), "a-b.c_d": np.ones(2)}
    tl.save(saved, tmp_path / "x.npz")
    assert {k: v.tolist() for k, v in tl.load(tmp_path / "x.npz").items()} == {
        k: v.tolist() for k, v in saved.items()
    }


def test_the_file_is_a_plain_npz_with_a_format_version(tmp_path: Path) -> None:
    tl.save({"w": np.ones(2)}, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz") as archive:
        assert sorted(archive.files) == sorted(["w", serialization.FORMAT_KEY])
        assert archive[serialization.FORMAT_KEY] == serialization.FORMAT_VERSION


# ------------------------------------------------------------------ atomic writes


def old_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "weights.npz"
    tl.save({"old": np.arange(1000.0)}, path)
    return path, path.read_bytes()


def break_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the write of the second array fail after half of it is on disk."""
    write_array = np.lib.format.write_array
    calls = []

    def failing(file: Any, array: np.ndarray, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            file.write(array.tobytes()[: array.nbytes // 2])
            raise OSError(28, "No space left on device")
        write_array(file, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)


def fail_at(name: str) -> Any:
    def failing(*args: Any) -> None:
        raise OSError(5, f"Input/output error in {name}")

    return failing


@pytest.mark.parametrize("where", ["write", "fsync", "replace", "interrupt"])
def test_a_failed_save_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path, before = old_file(tmp_path)
    new = {"a": np.ones(10_000), "b": np.ones(10_000), "c": np.ones(3)}
    expected: type[BaseException] = OSError
    if where == "write":
        break_midway(monkeypatch)
    elif where == "interrupt":
        expected = KeyboardInterrupt

        def interrupted(*args: Any) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "fsync", interrupted)
    else:
        monkeypatch.setattr(os, where, fail_at(where))
    with pytest.raises(expected):
        tl.save(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["weights.npz"]  # no temporary file left behind
    assert list(tl.load(path)) == ["old"]


def test_a_successful_save_replaces_the_old_file(tmp_path: Path) -> None:
    path, _ = old_file(tmp_path)
    tl.save({"new": np.ones(2)}, path)
    assert list(tl.load(path)) == ["new"]
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_save_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tl.save({"w": np.ones(1)}, tmp_path / "nowhere" / "w.npz")


# ------------------------------------------------------------------ refusing files


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        tl.load(tmp_path / "missing.npz")


def test_a_truncated_file(tmp_path: Path) -> None:
    path, data = old_file(tmp_path)
    for size in (len(data) // 2, len(data) - 10, 10, 0):
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match="not an .npz|truncated or corrupted"):
            tl.load(path)


def test_a_corrupted_file(tmp_path: Path) -> None:
    path, data = old_file(tmp_path)
    corrupted = bytearray(data)
    corrupted[len(data) // 2] ^= 0xFF  # one byte inside the array's data: a CRC mismatch
    path.write_bytes(bytes(corrupted))
    with pytest.raises(ValueError, match="truncated or corrupted"):
        tl.load(path)


def test_foreign_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    with pytest.raises(ValueError, match="not a tinygrad_lite state file.*no __tinygrad_lite"):
        tl.load(plain)
    text = tmp_path / "notes.txt"
    text.write_text("these are not weights\n")
    with pytest.raises(ValueError, match="not an .npz archive"):
        tl.load(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a tinygrad_lite state file"):
        tl.load(other_zip)
    with (
        zipfile.ZipFile(other_zip, "a") as archive,
        archive.open(serialization.FORMAT_KEY + ".npy", "w") as member,
    ):
        np.lib.format.write_array(member, np.array(1))
    with pytest.raises(ValueError, match=r"not arrays: \['readme.txt'\]"):
        tl.load(other_zip)


def test_a_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.npz"
    np.savez(path, w=np.ones(2), **{serialization.FORMAT_KEY: np.array(99)})
    with pytest.raises(ValueError, match="format version 99"):
        tl.load(path)


# ------------------------------------------------------------------ validating on save


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ([("w", np.ones(1))], TypeError, "expected a mapping"),
        ({1: np.ones(1)}, TypeError, "names must be str"),
        ({"": np.ones(1)}, ValueError, "bad name ''"),
        ({"a/b": np.ones(1)}, ValueError, "bad name 'a/b'"),
        ({".hidden": np.ones(1)}, ValueError, "bad name"),
        ({"__tinygrad_lite_format__": np.ones(1)}, ValueError, "bad name"),
        ({"w": [1.0, 2.0]}, TypeError, "'w' is list"),
        ({"w": 3.0}, TypeError, "'w' is float"),
        ({"w": np.array(["a"])}, TypeError, "dtype <U1"),
        ({"w": np.array([object()])}, TypeError, "dtype object"),
    ],
)
def test_bad_state_dicts_are_refused_before_anything_is_written(
    tmp_path: Path, bad: Any, error: type, match: str
) -> None:
    path, before = old_file(tmp_path)
    with pytest.raises(error, match=match):
        tl.save(bad, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_loading_into_a_model_that_does_not_fit_names_the_parameter(tmp_path: Path) -> None:
    small = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(0)))
    tl.save(small.state_dict(), tmp_path / "small.npz")
    wide = nn.Sequential(nn.Linear(3, 5, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(3, 4\)"):
        wide.load_state_dict(tl.load(tmp_path / "small.npz"))
    deeper = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"missing \['2.weight', '2.bias'\]"):
        deeper.load_state_dict(tl.load(tmp_path / "small.npz"))
