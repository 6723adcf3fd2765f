"""The ``pathwise`` console script: the same command line as the Rust build (``demo``,
``serve``, ``traces``, ``show``, ``report``, ...), compiled into the extension module."""

from __future__ import annotations

import sys
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Runs ``pathwise <args>`` and returns its exit code.

    Example::

        $ pathwise demo --iterations 200 --no-serve
    """
    args = ["pathwise", *(sys.argv[1:] if argv is None else argv)]
    code = _native.cli(args)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
