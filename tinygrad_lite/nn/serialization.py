"""Saving and loading state dicts: ``.npz`` files written atomically and checked on load.

>>> import os, tempfile
>>> import numpy as np
>>> import tinygrad_lite as tl
>>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
>>> tl.save({"0.weight": np.array([[1.0], [2.0]])}, path)
>>> tl.load(path)
{'0.weight': array([[1.],
       [2.]])}

The file is a plain numpy ``.npz`` (a zip of ``.npy`` arrays, readable with ``np.load``)
holding one more entry, ``__tinygrad_lite_format__``, the format version. ``save`` writes
to a temporary file in the target's folder, flushes and fsyncs it, then renames it over
the target (``os.replace``, atomic on POSIX and Windows): at every moment the target is
either the old file, whole, or the new one, whole. ``load`` refuses anything else.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_lite.tensor import Tensor

FORMAT_KEY = "__tinygrad_lite_format__"
FORMAT_VERSION = 1
# Parameter names as named_parameters() makes them: attribute names and indices, dotted.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_ZIP_MAGIC = b"PK\x03\x04"

PathLike = str | os.PathLike[str]


def save(state_dict: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state_dict`` (name -> numpy array or Tensor) to ``path`` as ``.npz``, atomically.

    Names and values are checked before anything is written. If writing fails at any point,
    the file at ``path`` (if there was one) is left as it was and the temporary file is
    removed. The path is used as given (no ``.npz`` is appended).
    """
    arrays = _checked_arrays(state_dict)
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"save: path must be a str or os.PathLike of str, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} does not exist")
    arrays[FORMAT_KEY] = np.array(FORMAT_VERSION, dtype=np.int64)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the name points at it
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    _fsync_folder(folder)


def load(path: PathLike) -> dict[str, np.ndarray]:
    """The state dict saved at ``path``: name -> numpy array, in the order it was saved.

    A missing file is a FileNotFoundError; a file that is not ours (a text file, a plain
    ``.npz`` without our format entry), truncated or corrupted, or from a newer format
    version, is a ValueError that says which.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    # Our own handle, so that it is closed even when numpy fails to read the archive.
    with open(path, "rb") as file:
        magic = file.read(len(_ZIP_MAGIC))
        if magic != _ZIP_MAGIC:
            raise ValueError(
                f"load: {path!r} is not a tinygrad_lite state file (not an .npz archive: it "
                f"starts with {magic!r}); accepted: files written by tl.save"
            )
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as archive:
                # Read every array now: a corrupted member fails its CRC check here.
                arrays = {name: archive[name] for name in archive.files}
        except (
            zipfile.BadZipFile,
            ValueError,
            OSError,
            EOFError,
            KeyError,
            # zipfile, on a damaged header: an unknown compression method, an "encrypted"
            # flag; numpy, on a header declaring an array larger than memory.
            NotImplementedError,
            RuntimeError,
            MemoryError,
        ) as error:
            raise ValueError(
                f"load: {path!r} is truncated or corrupted ({type(error).__name__}: {error})"
            ) from None
    if FORMAT_KEY not in arrays:
        raise ValueError(
            f"load: {path!r} is an .npz file but not a tinygrad_lite state file (it has no "
            f"{FORMAT_KEY} entry); accepted: files written by tl.save"
        )
    strays = [name for name, array in arrays.items() if not isinstance(array, np.ndarray)]
    if strays:
        raise ValueError(f"load: {path!r} holds entries that are not arrays: {strays}")
    # What save refuses to write: arrays of strings, complex numbers, dates.
    odd = [
        f"{name} ({array.dtype})"
        for name, array in arrays.items()
        if array.dtype.kind not in "biuf"
    ]
    if odd:
        raise ValueError(f"load: {path!r} holds arrays that are not of numbers: {odd}")
    version = arrays.pop(FORMAT_KEY)
    if version.shape != () or version.dtype.kind not in "iu" or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"load: {path!r} has format version {version.tolist()!r}; this version of "
            f"tinygrad_lite reads versions 1 to {FORMAT_VERSION}"
        )
    return arrays


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """What ``np.savez`` writes (one ``name.npy`` per array in an uncompressed zip), without
    passing names as keyword arguments, where ``file`` or ``allow_pickle`` would clash."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _checked_arrays(state_dict: Any) -> dict[str, np.ndarray]:
    """The state dict as name -> ndarray, or a TypeError/ValueError naming the bad entry."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"save: expected a mapping of name -> array (such as model.state_dict()), got "
            f"{type(state_dict).__name__}"
        )
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: names must be str, got {name!r}")
        if not _NAME.fullmatch(name) or name.startswith("__"):
            raise ValueError(
                f"save: bad name {name!r}; accepted: letters, digits, '_', '.' and '-', not "
                f"starting with '.', '-' or '__' (as named_parameters() makes them)"
            )
        array = value.data if isinstance(value, Tensor) else value
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"save: {name!r} is {type(value).__name__}; accepted: a numpy array or a Tensor"
            )
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"save: {name!r} is an array of dtype {array.dtype}; accepted: arrays of "
                f"numbers (bool, int, float)"
            )
        arrays[name] = array
    return arrays


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename has still happened
    finally:
        os.close(fd)
