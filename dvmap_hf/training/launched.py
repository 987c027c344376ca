"""How a process that `accelerate launch` started ends.

A finished 2-process run has everything on disk and its process group destroyed (`Trainer.end`), yet the
C++ teardown of torch / DeepSpeed objects at interpreter exit sometimes aborts a rank: `terminate called
without an active exception`, SIGABRT, with no Python frame left (seen in 2 of 26 ZeRO-3 resumes of
tests/test_distributed.py on 2 CPU processes, torch 2.13). The launcher then reports the finished run as
failed. So a rank of a distributed launch flushes what the interpreter would and leaves with `os._exit`;
a single process (in-process `dvmap train`, tests) ends as usual.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable


def run_launched(main: Callable[[], object]) -> None:
    """Run a training entry point; on a rank of a multi-process launch, skip the interpreter's teardown
    once it returns (an exception ends the process as usual, with its traceback and non-zero status; bad
    input, `DvmapError`, with one line and status 2, as `dvmap train` gives it)."""
    from ..errors import DvmapError

    try:
        main()
    except DvmapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
