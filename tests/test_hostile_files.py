"""tl.load on damaged and foreign files: a ValueError that says so, or the data as saved.

Never another exception (zipfile's NotImplementedError or RuntimeError, numpy's
MemoryError), and never other data than what was saved.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.nn import serialization

STATE = {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": np.array([1.0, -2.0])}


def _saved(tmp_path: Path) -> bytes:
    path = tmp_path / "good.npz"
    tl.save(STATE, path)
    return path.read_bytes()


def _load_bytes(tmp_path: Path, data: bytes) -> dict[str, np.ndarray]:
    path = tmp_path / "damaged.npz"
    path.write_bytes(data)
    return tl.load(path)


def _loads_as_saved_or_refuses(tmp_path: Path, data: bytes) -> str:
    try:
        loaded = _load_bytes(tmp_path, data)
    except ValueError as error:
        assert str(error).startswith("load: ")
        return "refused"
    assert list(loaded) == list(STATE)
    for name, array in STATE.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    return "as saved"


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path: Path) -> None:
    # zipfile raised NotImplementedError ("compression method not supported") or
    # RuntimeError ("encrypted, password required") for flips in a zip header.
    data = _saved(tmp_path)
    seen = set()
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x01 if position % 2 else 0xFF  # a low bit, or every bit
        seen.add(_loads_as_saved_or_refuses(tmp_path, bytes(damaged)))
    assert seen == {"refused", "as saved"}  # some bytes (timestamps) do not matter


def test_every_truncation_is_refused(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    for size in range(0, len(data), 3):
        assert _loads_as_saved_or_refuses(tmp_path, data[:size]) == "refused"


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def _archive(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(serialization.FORMAT_KEY + ".npy", _npy(np.array(1)))
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_header_declaring_an_array_larger_than_memory(tmp_path: Path) -> None:
    # A few hundred bytes whose .npy header claims 8 TiB: numpy's MemoryError leaked.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)}
    )
    path = _archive(tmp_path, {"w.npy": header.getvalue()})
    with pytest.raises(ValueError, match="truncated or corrupted"):
        tl.load(path)


@pytest.mark.parametrize(
    "array", [np.array(["a", "b"]), np.array([1 + 2j]), np.array(["2020-01-01"], "M8[D]")]
)
def test_arrays_save_would_refuse_are_refused_on_load(tmp_path: Path, array: np.ndarray) -> None:
    # They were returned, to fail later (or not) wherever they were used.
    path = _archive(tmp_path, {"w.npy": _npy(array)})
    with pytest.raises(ValueError, match=r"not of numbers: \['w \("):
        tl.load(path)


def test_a_header_that_is_not_a_header(tmp_path: Path) -> None:
    bad = b"\x93NUMPY\x01\x00\x10\x00{garbage}      \n"
    for members in ({"w.npy": bad}, {"w.npy": _npy(np.array([None], dtype=object))}):
        with pytest.raises(ValueError, match="truncated or corrupted"):
            tl.load(_archive(tmp_path, members))
