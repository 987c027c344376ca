"""The `dvmap` command: one subcommand per task, registered by the modules of `dvmap_app.commands`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dvmap_hf.errors import DvmapError
from dvmap_hf.options import OptionError, with_flag

from .commands import COMMANDS, analyze, data, evaluate, hub, models, release, train

SECTIONS = (models, data, release, train, evaluate, analyze, hub)  # each registers its commands; the order of --help


class Parser(argparse.ArgumentParser):
    """argparse with the kit's one-line errors (the usage is one `--help` away), taking `--a_b` for `--a-b`
    as TRL's parser takes `--a-b` for `--a_b` (the quickstart's `--sft-steps` beside TRL's `--max_steps`)."""

    def error(self, message: str):
        self.exit(2, f"dvmap: error: {message} (see `{self.prog} --help`)\n")

    def _parse_optional(self, arg_string: str):
        name, sep, value = arg_string.partition("=")
        dashed = "--" + name[2:].replace("_", "-")
        if name.startswith("--") and name not in self._option_string_actions and dashed in self._option_string_actions:
            arg_string = dashed + sep + value
        return super()._parse_optional(arg_string)


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="dvmap", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for section in SECTIONS:
        for name, (help_text, add) in COMMANDS.items():
            if add.__module__ == section.__name__:
                add(sub.add_parser(name, help=help_text, description=help_text))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)  # bad flags and values outside an option's choices: argparse's usage
    except SystemExit as exc:  # message and exit status 2 (--help: 0), returned rather than raised
        return exc.code
    try:
        args.handler(args)
    except OptionError as exc:  # the library names the field; say the flag the user typed
        print(f"dvmap: error: {with_flag(exc, getattr(args, 'option_flags', {}))}", file=sys.stderr)
        return 2
    except DvmapError as exc:
        print(f"dvmap: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable folder, a full disk ...: the path and the reason, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dvmap: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dvmap: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
