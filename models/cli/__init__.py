"""The command line, ``tinygrad-lite`` (also ``python -m models``): ``cli.py`` parses and
runs the commands, ``report.py`` writes what ``train`` prints, plots and reports as JSON,
``jobs.py`` turns a MODEL argument into a job that every command uses, ``comparison.py``
runs autodiff beside a hand-written twin (``compare``), ``gradients.py`` checks
gradients (``gradcheck``), and ``config.py`` reads a network declared in a TOML file,
with ``checks.py``, ``network.py`` (the layers and their shapes) and ``dataset.py`` (the
data)."""

from __future__ import annotations

from models.cli.cli import main

__all__ = ["main"]
