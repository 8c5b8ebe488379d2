"""``python -m models``: the same command line as ``tinygrad-lite`` (see models/cli/)."""

import sys

from models.cli import main

if __name__ == "__main__":  # not when a test collector imports this file
    sys.exit(main())
