"""Read the kit's dataset folders (a Hub dataset repo: parquet + README.md with `configs:`), find a dataset
by one rule (`find_dataset`, once a run), and say whether the Hub is off. `dataset_builder/folder.py` writes them.

Parquet file names carry a fingerprint of their content (`train-<sha256[:12]>.parquet`): `datasets`
caches by file name, so a file edited in place would be served stale from the cache; `check_content`
refuses it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import DvmapError

MANIFEST = "dvmap_manifest.json"
DATASET_FOLDER = ("dataset folder", MANIFEST)  # what `--force` may replace (`io.check_output_dir`)


def read_manifest(folder: str | Path) -> dict:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DvmapError(f"{folder}: not a dvmap dataset folder (no {MANIFEST})")
    return json.loads(path.read_text(encoding="utf-8"))


def hub_offline(for_what: str = "dataset") -> bool:
    """Whether the Hub is off for what would reach it: a dataset as `datasets` sees it (HF_DATASETS_OFFLINE
    if set, else HF_HUB_OFFLINE), a model as transformers and huggingface_hub see it (HF_HUB_OFFLINE). The
    kit's one offline check, so that it refuses exactly what the library would fail to fetch."""
    if for_what == "model":
        from huggingface_hub import is_offline_mode

        return is_offline_mode()
    from datasets import config

    return bool(config.HF_HUB_OFFLINE)


def looks_like_hub_id(name: str) -> bool:
    """`owner/name` as the Hub validates repository ids (dots allowed, as in `meta-llama/Llama-3.2-3B-Instruct`);
    a bare name, a relative or an absolute path is not one."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if str(name).count("/") != 1:
        return False
    try:
        validate_repo_id(str(name))
    except HFValidationError:
        return False
    return True


def resolve_dataset(dataset: str | Path) -> str:
    """A local dataset folder (absolute path), or a Hub id `owner/name` when the Hub can be reached.

    Never a name that `datasets` would look up in its cache: a missing `./dvmap` must not be served the
    rows of a `dvmap` folder loaded from somewhere else earlier."""
    path = Path(dataset).expanduser()
    if path.is_dir():
        return str(path.resolve())
    text = str(dataset)
    if not looks_like_hub_id(text):
        raise DvmapError(f"{dataset}: no such dataset folder (build one with `dvmap build --out {dataset}`)")
    if hub_offline():
        raise DvmapError(f"{dataset}: no such dataset folder, and the Hub is off (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE)")
    return text


@dataclass(frozen=True)
class DatasetSource:
    """A dataset found once: `given` as the caller named it (what messages say), `location` where it is (an
    absolute folder, or a Hub id). A run passes it on, so every step reads the same dataset."""

    given: str
    location: str

    @property
    def folder(self) -> Path | None:
        path = Path(self.location)
        return path if path.is_absolute() and path.is_dir() else None

    def __str__(self) -> str:
        return self.given


def find_dataset(dataset: str | Path | DatasetSource) -> DatasetSource:
    """`dataset` found by `resolve_dataset` (a `DatasetSource` is returned as it is)."""
    if isinstance(dataset, DatasetSource):
        return dataset
    return DatasetSource(str(dataset), resolve_dataset(dataset))


def data_fingerprint(dataset: str | Path | DatasetSource, config: str, split: str) -> str:
    """What identifies the rows of a split: its parquet file (the name carries a hash of its content) for a
    folder, the repository's commit for a Hub dataset."""
    source = find_dataset(dataset)
    if source.folder is not None:
        files = read_manifest(source.folder).get("files", {})
        return files.get(f"{config}/{split}") or f"{config}/{split}: not in the manifest"
    from huggingface_hub import HfApi

    return f"{source.location}@{HfApi().dataset_info(source.location).sha}"


def load_split(dataset: str | Path | DatasetSource, config: str, split: str | None = None):
    """One split of a dataset folder or Hub id; `split=None` takes `test` (or the config's only split).

    Errors name what exists instead of a stack trace from `datasets`.
    """
    from datasets import load_dataset

    source = find_dataset(dataset)
    if source.folder is not None:  # datasets prepares (and caches) every split of the config: check them all
        for key, name in read_manifest(source.folder).get("files", {}).items():
            if key.partition("/")[0] == config:
                check_content(source.folder / name)
    try:
        splits = load_dataset(source.location, config)
    except FileNotFoundError as exc:
        raise DvmapError(f"{dataset}: no such dataset folder or Hub dataset ({exc})") from exc
    except ValueError as exc:
        if "config" in str(exc).lower() or "BuilderConfig" in str(exc):  # datasets lists the available ones
            raise DvmapError(f"{dataset}: no config {config!r} ({str(exc).splitlines()[0]})") from exc
        raise _unreadable(dataset, config, exc) from exc
    except Exception as exc:  # a damaged parquet, card or split table: datasets' own error, in one line
        raise _unreadable(dataset, config, exc) from exc
    if split is None:
        split = "test" if "test" in splits else next(iter(splits))
    if split not in splits:
        raise DvmapError(f"{dataset}: config {config!r} has no split {split!r}; it has {', '.join(splits)}")
    return splits[split]


def _unreadable(dataset, config: str, exc: Exception) -> DvmapError:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return DvmapError(
        f"{dataset}: config {config!r} cannot be read ({type(exc).__name__}: {first}); "
        "the folder is damaged: rebuild it with `dvmap build`"
    )


def check_content(path: Path) -> None:
    """A split's parquet name carries a hash of its content, and `datasets` caches by that name: a file
    edited in place would be served from the cache as it was. Refuse it instead."""
    if not path.is_file() or "-" not in path.stem:
        return
    expected = path.stem.rpartition("-")[2]
    with open(path, "rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()[: len(expected)]
    if actual != expected:
        raise DvmapError(
            f"{path}: its content does not match the hash in its name (edited in place?); "
            "rebuild the folder with `dvmap build` (or `dvmap import-release`) rather than editing it"
        )
