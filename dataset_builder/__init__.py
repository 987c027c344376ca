"""Build the DVMap corpus and benchmark from a WVS Wave 7 file into a Hub dataset folder.

Names are loaded on first use: `dataset_builder.config` (the options) stays light for the command line.
"""

from importlib import import_module

_HOMES = {"BuildConfig": "config", "assemble": "build", "build_folder": "write", "format_report": "write"}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'dataset_builder' has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
