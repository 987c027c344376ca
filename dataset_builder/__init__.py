"""Build the DVMap corpus and benchmark from a WVS Wave 7 file into a Hub dataset folder."""

from .build import BuildConfig, assemble
from .write import build_folder, format_report

__all__ = ["BuildConfig", "assemble", "build_folder", "format_report"]
