"""The command line, ``tinygrad-lite`` (also ``python -m models``): ``cli.py`` parses and
prints, ``jobs.py`` turns a MODEL argument into a job that every command uses, and
``config.py`` reads a network declared in a TOML file; ``recurrent.py`` and ``unrolled.py``
hold the commands on ``char-rnn``, which reads a stream of text rather than rows."""

from __future__ import annotations

from models.cli.cli import main

__all__ = ["main"]
