"""All-or-nothing output: everything is written beside its target under a temporary name, then renamed.

An error or Ctrl-C leaves the previous state untouched and no half-written file or folder behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DvmapError


def checkout_folder(*parts: str, purpose: str) -> Path:
    """A folder of the dvmap-hf checkout (recipes, evaluate modules): not shipped in a wheel."""
    folder = Path(__file__).resolve().parent.parent.joinpath(*parts)
    if not folder.is_dir():
        raise DvmapError(f"{folder}: not found; {purpose} needs a dvmap-hf checkout (pip install -e .)")
    return folder


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp" + target.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output_dir(target: str | Path, force: bool) -> Path:
    """Refuse a non-empty existing output folder unless `force` (then it is replaced at the end)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise DvmapError(f"{target}: exists and is not a folder")
    if target.exists() and any(target.iterdir()) and not force:
        raise DvmapError(f"{target}: folder exists and is not empty (use --force to replace it)")
    return target


@contextmanager
def atomic_dir(target: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; on success it takes `target`'s place."""
    target = check_output_dir(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
