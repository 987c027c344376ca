"""One declaration per option: a dataclass field carries its default, help and allowed values, and the
command line is built from it (as `HfArgumentParser` builds TRL's), so `--help` and the library agree.

Stdlib only: the `dvmap` command lists every option without importing pandas, torch or datasets.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePath
from typing import Any

from .errors import DvmapError


class OptionError(DvmapError):
    """A bad value of one option: the library names the field, the command line names its flag."""

    def __init__(self, name: str, problem: str):
        self.name, self.problem = name, problem
        super().__init__(f"{name} {problem}")


def option(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    choices: Sequence[str] | None = None,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    metavar: str | None = None,
) -> Any:
    """A dataclass field that is also a command-line option (`flag` defaults to --the-field-name)."""
    metadata = {"help": help, "choices": choices, "flag": flag, "parse": parse, "metavar": metavar}
    if isinstance(default, (dict, list, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def csv_list(text: str) -> tuple[str, ...]:
    """`a, b,,c` -> ('a', 'b', 'c'); '' -> ()."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def at_least(name: str, value: int | float | None, least: int | float = 1) -> None:
    """Refuse a count or size below `least`, naming the field."""
    if value is not None and not value >= least:
        raise OptionError(name, f"must be >= {least}, not {value}")


def one_of(name: str, value: str, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise OptionError(name, f"must be one of {', '.join(choices)}, not {value!r}")


def check_choices(config: Any) -> None:
    """Every field declared with `choices` holds one of them (call from `__post_init__`)."""
    for f in dataclasses.fields(config):
        if f.metadata.get("choices"):
            one_of(f.name, getattr(config, f.name), f.metadata["choices"])


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _described(default: Any) -> str:
    if isinstance(default, tuple):
        return ",".join(map(str, default)) or "''"
    return str(default)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _argument(f: dataclasses.Field) -> dict:
    """argparse's keywords for the field: required, a switch, or a typed value with its default shown."""
    meta, default = f.metadata, _default(f)
    if isinstance(default, bool):
        return {"action": "store_false" if default else "store_true", "default": default, "help": meta["help"]}
    if default is dataclasses.MISSING:
        kwargs = {"required": True, "type": meta["parse"], "help": meta["help"]}
    else:
        kwargs = {"default": default, "type": meta["parse"] or _parser_for(default), "help": meta["help"]}
    if isinstance(default, (str, int, float, tuple, PurePath)):
        kwargs["help"] += f" (default: {_described(default)})"
    if meta["choices"]:
        kwargs["choices"] = list(meta["choices"])
    else:
        kwargs["metavar"] = meta["metavar"] or _flag(f).lstrip("-").upper().replace("-", "_")
    return kwargs


def add_options(parser: argparse.ArgumentParser, cls: type, only: Iterable[str] | None = None) -> None:
    """Add one option per field of `cls` declared with `option()` (or those named in `only`), and remember
    which flag is whose, so that an `OptionError` can name the flag."""
    flags = parser.get_default("option_flags") or {}
    for f in dataclasses.fields(cls):
        if "help" in f.metadata and (only is None or f.name in only):
            parser.add_argument(_flag(f), dest=f.name, **_argument(f))
            flags[f.name] = _flag(f)
    parser.set_defaults(option_flags=flags)


def _parser_for(default: Any) -> Callable[[str], Any] | None:
    if isinstance(default, tuple):
        return csv_list
    if isinstance(default, (int, float)):
        return type(default)
    return None  # strings and paths: as typed


def from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """An instance of `cls` from the parsed options it declared, plus `values`."""
    for f in dataclasses.fields(cls):
        if "help" in f.metadata and f.name not in values and hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    return cls(**values)


def with_flag(error: OptionError, flags: dict[str, str]) -> str:
    """The error as the command line says it: `--prompt-style must be one of ...` (a flag not built from a
    dataclass, like `--attribute` or `--repo-id`, is the parameter's name with dashes)."""
    return f"{flags.get(error.name, '--' + error.name.replace('_', '-'))} {error.problem}"
