"""The subcommands of `dvmap`, a few to a module. Each registers `fn(parser)`, which adds its options
(built from the library's dataclasses where there is one) and sets its handler; heavy imports wait for
the handler, so `dvmap --help` stays fast."""

from __future__ import annotations

import argparse
from collections.abc import Callable

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help: str):
    """Register `fn(parser)` under `name`."""

    def register(fn):
        COMMANDS[name] = (help, fn)
        return fn

    return register


def out_options(p: argparse.ArgumentParser, what: str, required: bool = True, default: str | None = None) -> None:
    """--out and --force, as every command that writes a folder or file takes them."""
    p.add_argument("--out", required=required, default=default, help=what)
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
