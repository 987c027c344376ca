"""sha256 of a source file, for the dataset card.

`file_sha256_beside` hashes in a child process: pyreadstat holds the GIL for a whole read, so a
hashing thread would wait for it, while a child runs on the other core and costs the build nothing.
Measured on the 2-core machine (2026-12-02, the 467 MB full-size synthetic .sav, three rounds): the read
alone 1.19-1.38 s, read + `hashlib.file_digest` in a thread 1.65-1.76 s, read + this child 1.21-1.39 s.
This module imports only the standard library, so the child starts in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextmanager
def file_sha256_beside(path: str | Path) -> Iterator[Callable[[], str]]:
    """Start hashing `path` in a child process; the yielded function waits for its hex digest. If no
    child can be started, or it fails, the digest is computed in this process instead. Leaving the
    block stops a child still running."""
    package_parent = str(Path(__file__).resolve().parents[2])  # the folder holding dvmap_hf
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "dvmap_hf.data.digest", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    except OSError:
        yield lambda: file_sha256(path)
        return

    def result() -> str:
        out, _ = child.communicate()
        digest = out.strip()
        return digest if child.returncode == 0 and len(digest) == 64 else file_sha256(path)

    try:
        yield result
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


if __name__ == "__main__":
    print(file_sha256(sys.argv[1]))
