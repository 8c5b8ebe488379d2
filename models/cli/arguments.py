"""What the commands share: the two ways a command fails, and the type of a count argument.

``UsageError``: the command cannot run as given (one line on stderr, exit status 2);
``CommandFailedError``: the work ran and found a problem (one line, exit status 1).
``cli.main`` turns both into those lines, whichever command raised them.
"""

from __future__ import annotations

import argparse


class UsageError(Exception):
    """The command cannot run as given: one line on stderr, exit status 2."""


class CommandFailedError(Exception):
    """The work ran and found a problem: one line on stderr, exit status 1."""


def count(text: str) -> int:
    """An argparse type: a whole number, 0 or more (epochs, iterations, checkpoints)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
