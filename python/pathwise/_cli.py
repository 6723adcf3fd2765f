"""The ``pathwise`` console script: the same command line as the Rust build (``demo``,
``serve``, ``traces``, ``show``, ``report``, ...), compiled into the extension module."""

from __future__ import annotations

import signal
import sys
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Runs ``pathwise <args>`` and returns its exit code.

    Example::

        $ pathwise demo --iterations 200 --no-serve
    """
    args = ["pathwise", *(sys.argv[1:] if argv is None else argv)]
    # The command handles Ctrl-C itself (`serve` stops cleanly); Python's own handler would
    # still fire afterwards and turn a clean exit into a KeyboardInterrupt traceback. With the
    # default disposition, commands that install no handler simply stop, as the Rust build does.
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        code = _native.cli(args)
    finally:
        signal.signal(signal.SIGINT, previous)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
