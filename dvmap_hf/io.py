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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def follow_umask(folder: str | Path) -> None:
    """Give the files under `folder` that were written owner-only the modes the umask allows: transformers
    saves `model.safetensors` as 0600 (through a temporary file), so a model the kit wrote could not be
    read by the group that shares it, and loading it elsewhere failed with "No such file or directory"."""
    mode = 0o666 & ~_umask()
    if mode == 0o600:  # the umask itself asks for owner-only files
        return
    for path in Path(folder).rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o777 == 0o600:
            path.chmod(mode)


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename."""
    target = Path(target)
    if target.is_dir():  # refused before any work, naming the path given (not the temporary one)
        raise DvmapError(f"{target}: is a folder; name a file to write")
    with _writable(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp" + target.suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result is an ordinary file
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output_dir(
    target: str | Path, force: bool, inputs: tuple[str | Path, ...] = (), kind: tuple[str, str] | None = None
) -> Path:
    """Refuse a non-empty existing output folder unless `force` (then it is replaced at the end), and
    always a folder that is replaced whole but holds an input, the working folder or one above it. With
    `kind` = (what, marker file), `force` replaces only an empty folder or one holding that marker: never a
    folder of something else (a folder of eval runs is not a dataset)."""
    target = Path(target)
    resolved, here = target.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise DvmapError(f"{target}: the output folder is replaced whole; it cannot be the working folder or above it")
    for item in inputs:
        if resolved in Path(item).resolve().parents or resolved == Path(item).resolve():
            raise DvmapError(
                f"{target}: holds the input {item}, and the output folder is replaced whole; write elsewhere"
            )
    if target.exists() and not target.is_dir():
        raise DvmapError(f"{target}: exists and is not a folder")
    held = sorted(p.name for p in target.iterdir()) if target.is_dir() else []
    if held and not force:
        raise DvmapError(f"{target}: folder exists and is not empty (use --force to replace it)")
    if held and kind is not None and not (target / kind[1]).exists():
        shown = ", ".join(held[:5]) + (f" ... ({len(held)} entries)" if len(held) > 5 else "")
        raise DvmapError(f"{target}: --force replaces a {kind[0]} or an empty folder; this one holds {shown}")
    return target


def _remove_stale(target: Path) -> None:
    """Temporary folders beside `target` left by a killed process (its pid is in the name)."""
    for stale in target.parent.glob(f".{target.name}.*-*-*"):
        kind, _, rest = stale.name.removeprefix(f".{target.name}.").partition("-")
        pid = rest.partition("-")[0]
        if kind in ("tmp", "old") and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_dir(
    target: str | Path, force: bool = False, inputs: tuple[str | Path, ...] = (), kind: tuple[str, str] | None = None
) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; on success it takes `target`'s place."""
    target = check_output_dir(target, force, inputs, kind)
    with _writable(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(target)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-{os.getpid()}-"))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; the result is an ordinary folder
    try:
        yield tmp
        follow_umask(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-{os.getpid()}-"))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def errors_as(kinds: type[BaseException] | tuple, say) -> Iterator[None]:
    """Exceptions of `kinds` raised inside become one `DvmapError` line, `say(exc)`: what the user gave and
    what to do, not a library's traceback."""
    try:
        yield
    except kinds as exc:
        raise DvmapError(say(exc)) from exc


def _writable(folder: Path):
    """Name the folder the user gave when it cannot be written, not the temporary or lock file in it."""
    return errors_as(
        PermissionError, lambda exc: f"{folder}: cannot write there ({exc.strerror}); choose a folder you can write"
    )


@contextmanager
def folder_lock(folder: str | Path, what: str = "dvmap") -> Iterator[None]:
    """One writer per folder: a lock file beside it holds the writer's pid (linked into place whole, so it
    is never seen empty). A second writer is refused at once; the lock of a process that died is taken over."""
    folder = Path(folder)
    lock = folder.parent / f".{folder.name}.lock"
    mine = folder.parent / f".{folder.name}.lock-{os.getpid()}"
    with _writable(folder.parent):
        folder.parent.mkdir(parents=True, exist_ok=True)
        mine.write_text(str(os.getpid()))
    try:
        for _ in range(2):
            try:
                os.link(mine, lock)
                break
            except FileExistsError:
                holder = lock.read_text().strip() if lock.exists() else ""
                if holder.isdigit() and _alive(int(holder)):
                    message = (
                        f"{folder}: another {what} (pid {holder}) is writing it; wait for it or use another folder"
                    )
                    raise DvmapError(message) from None
                lock.unlink(missing_ok=True)  # the lock of a writer that died
        else:
            raise DvmapError(f"{folder}: cannot take its lock {lock}")
    finally:
        mine.unlink(missing_ok=True)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def model_folder(folder: str | Path) -> Path:
    """`folder` if it holds a model (its config.json), else a clear error: a card, a push or an evaluation of
    anything else would describe nothing."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise DvmapError(f"{folder}: not a model folder (no config.json)")
    return folder
