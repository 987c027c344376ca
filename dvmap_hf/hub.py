"""Publishing to the Hugging Face Hub. The token comes from the usual login / HF_TOKEN and is never printed."""

from __future__ import annotations

from pathlib import Path

from .data.folder import looks_like_hub_id, read_manifest
from .io import errors_as, model_folder
from .options import OptionError
from .resources import resource_folder


def hub_api():
    """The Hub client (a seam: the one no-network test replaces it with a recording fake)."""
    from huggingface_hub import HfApi

    return HfApi()


def _check_repo_id(repo_id: str) -> None:
    if not looks_like_hub_id(repo_id):
        raise OptionError("repo_id", f"must be a Hub id <owner>/<name>, not {repo_id!r}")


def _pushing(repo_id: str):
    """Network, auth and permission errors of a push end here, as one line (the token is not in them)."""
    return errors_as(Exception, lambda exc: f"push to {repo_id} failed: {type(exc).__name__}: {exc}")


def push_dataset_folder(
    folder: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    message: str | None = None,
) -> str:
    """Create (if needed) the dataset repo and upload the folder; old parquet shards are removed."""
    folder, message = Path(folder), message or "Upload DVMap dataset built with dvmap-hf"
    read_manifest(folder)  # refuses anything that is not a dataset folder of the kit
    _check_repo_id(repo_id)
    api = hub_api()
    with _pushing(repo_id):
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            commit_message=message,
            delete_patterns=["data/**/*.parquet"],
        )
    return str(getattr(info, "commit_url", None) or f"https://huggingface.co/datasets/{repo_id}")


METRIC_NAMES = ("likert_consistency", "wasserstein_distance", "distribution_distance", "distribution_alignment")


def push_metrics(namespace: str, private: bool = False) -> list[str]:
    """Upload each evaluate module as a Gradio Space named like its script, with the numpy cores and the
    modules' shared piece beside it."""
    api, urls = hub_api(), []
    core = Path(__file__).resolve().parent / "evaluation" / "metrics.py"  # numpy only: runs alone on a Space
    alignment = core.with_name("alignment.py")  # numpy only too: the per-row distribution scores
    shared = core.with_name("metric_module.py")  # what the modules share
    for name in METRIC_NAMES:
        repo_id = f"{namespace}/{name}"
        with _pushing(repo_id):
            api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
            api.upload_folder(
                folder_path=str(resource_folder("evaluate_metrics") / name),
                repo_id=repo_id,
                repo_type="space",
                commit_message=f"Upload {name} (dvmap-hf)",
            )
            uploads = ((core, "metrics_core.py"), (alignment, "alignment_core.py"), (shared, "metric_module.py"))
            for source, name_in_repo in uploads:
                api.upload_file(
                    path_or_fileobj=str(source),
                    path_in_repo=name_in_repo,
                    repo_id=repo_id,
                    repo_type="space",
                    commit_message=f"Upload {name_in_repo} of the DVMap metrics",
                )
        urls.append(f"https://huggingface.co/spaces/{repo_id}")
    return urls


def push_model_folder(folder: str | Path, repo_id: str, private: bool = False, message: str | None = None) -> str:
    """Create (if needed) the model repo and upload a trained model's folder, its card included."""
    folder = model_folder(folder)
    _check_repo_id(repo_id)
    api = hub_api()
    with _pushing(repo_id):
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="model",
            commit_message=message or "Upload DVMap model (dvmap-hf)",
            ignore_patterns=["checkpoint-*/**"],
        )
    return str(getattr(info, "commit_url", None) or f"https://huggingface.co/{repo_id}")
