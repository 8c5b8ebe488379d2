"""Running the command line as a user does, for the tests of the commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m models ARGS`` with the repository importable, as after ``pip install -e .``."""
    return subprocess.run(
        [sys.executable, "-m", "models", *args],
        cwd=cwd or ROOT,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_on_a_terminal(
    *args: str, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``python -m models ARGS`` with stderr on a pseudo-terminal 100 columns wide and stdout
    piped: the finished process, and what the terminal was shown (a progress bar)."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    primary, secondary = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm would draw a bar of nothing.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.run(
            [sys.executable, "-m", "models", *args],
            cwd=ROOT,
            env=_environment(None),
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=timeout,
        )
        os.set_blocking(primary, False)
        try:
            shown = os.read(primary, 65536).decode()
        except BlockingIOError:  # nothing was shown
            shown = ""
    finally:
        os.close(primary)
        os.close(secondary)
    return process, shown


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment, with ``env`` over it and the repository importable."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), environment.get("PYTHONPATH", "")) if p
    )
    return environment


def error_line(result: subprocess.CompletedProcess[str], after_output: bool = False) -> str:
    """The one line a failed command prints (and check that it is one line, no traceback,
    and, unless it failed ``after_output`` of its own, nothing on stdout)."""
    if not after_output:
        assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
