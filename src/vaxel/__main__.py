"""`python -m vaxel` and the `vaxel` console script."""

from __future__ import annotations

import sys

from vaxel.cli import main

if __name__ == "__main__":
    sys.exit(main())
