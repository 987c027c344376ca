"""The files the commands read that people edit at the repository's top level: recipes, launch configs,
`evaluate` modules, lm-evaluation-harness tasks. One copy lives in the repository; a built wheel carries
a copy in `dvmap_hf/_resources/` (setup.py), so a regular `pip install .` runs every command too.

This module imports nothing from the package: setup.py reads RESOURCES from it at build time.
"""

from __future__ import annotations

from pathlib import Path

#: name -> the folder, relative to the repository root.
RESOURCES = {
    "recipes": "training/recipes",
    "accelerate_configs": "accelerate_configs",
    "evaluate_metrics": "evaluate_metrics",
    "lm_eval_tasks": "lm_eval_tasks",
}


def resource_folder(name: str) -> Path:
    """The installed copy (a wheel), else the checkout's folder (an editable install or a clone)."""
    package = Path(__file__).resolve().parent
    for folder in (package / "_resources" / name, package.parent / RESOURCES[name]):
        if folder.is_dir():
            return folder
    from .errors import DvmapError

    raise DvmapError(f"{name}: not found in the installed package nor a checkout; reinstall dvmap-hf")
