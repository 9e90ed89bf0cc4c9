"""The ``pmirc`` console script: Ctrl-C is one line and exit status 130 from the first moment.

The command line's modules take a while to import (numpy, pyarrow, lark); an interrupt during
the imports would print a traceback, so until :func:`pmir_dsl.cli.main` runs (which handles
KeyboardInterrupt itself) an interrupt ends the process at once with the same line.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("pmirc: interrupted\n")
    os._exit(130)  # nothing has been written yet that needs flushing


def main() -> None:
    """Import the command line with Ctrl-C handled, then run it. A process started with Ctrl-C
    ignored (in the background: ``nohup``, ``cmd &`` in a script) keeps ignoring it."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupted)
    from .cli import main as run

    signal.signal(signal.SIGINT, previous)  # KeyboardInterrupt again, caught by cli.main
    sys.exit(run())


if __name__ == "__main__":
    main()
