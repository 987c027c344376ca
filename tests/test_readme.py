"""The README's first screen and CI must not drift apart, nor the docs from the code."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REFERENCE = ROOT / "docs" / "reference.md"


def first_screen_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_gives_two_commands_and_ci_runs_the_test_one_verbatim():
    install_and_run, install_and_test = first_screen_commands()
    assert "pip install" in install_and_run and "dvmap" in install_and_run
    assert install_and_test.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci


def test_the_readme_quotes_the_paper_from_its_one_table():
    from dvmap_hf.paper import FIGURES, SIZES

    readme = "\n".join(doc.read_text() for doc in DOCS)
    quoted = re.findall(r"paper(?: reports|:) (-?\d[\d.]*%?)", readme)
    assert quoted and set(quoted) <= {str(f) for f in FIGURES.values()}, quoted
    rows = {m[0]: m[1] for m in re.findall(r"^\| `(\w+)`[^\n]*?\| ([\d,]+(?: / [\d,]+)*) \|[^|\n]*\|$", readme, re.M)}
    for config in ("corpus", "cross_demographic", "cross_country", "cross_value"):
        paper = " / ".join(f"{n:,}" for (c, _), n in SIZES.items() if c == config)
        assert rows[config] == paper, (config, rows.get(config))


def test_the_readme_build_options_table_shows_the_declared_defaults():
    from dvmap_app.cli import parser

    args = parser().parse_args(["build", "--wvs", "f.sav"])
    defaults = {flag: getattr(args, name) for name, flag in args.option_flags.items()} | {"--out": args.out}
    section = REFERENCE.read_text().split("`dvmap build` options", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `(--[\w-]+)[^|]*\| ([^|]+) \|", section, re.M)
    assert len(rows) >= 10
    for flag, cell in rows:
        cell = cell.strip().strip("`")
        if cell not in ("(one of the two)", "see below"):
            default = defaults[flag]
            assert cell == (",".join(default) if isinstance(default, tuple) else str(default)), flag


def shown_commands() -> list[tuple[str, str]]:
    """(file, command) for every command in a bash block of the README and docs/, continuation lines joined."""
    found = []
    for doc in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append((doc.name, line.strip()))
    return found


def test_every_command_the_docs_show_is_one_the_kit_takes():
    """A `dvmap` line parses with the command line it names (a typo'd flag or a renamed command fails); a
    launch config, script, recipe or bench the line names exists. Running them is the job of the tests of
    each command (and of `--dry-run` where a line says so)."""
    import shlex

    from dvmap_app.cli import parser
    from dvmap_hf.training.arguments import with_recipe_path

    commands = shown_commands()
    assert len(commands) >= 30
    for doc, line in commands:
        for part in re.split(r" && | & ", line):
            words = shlex.split(part, comments=True)
            if not words:
                continue
            if words[0] == "dvmap":
                try:
                    args = parser().parse_args(words[1:])
                except SystemExit as exc:
                    raise AssertionError(f"{doc}: `{part}` is refused by the command line") from exc
                if args.command == "train":
                    recipe = with_recipe_path(args.recipe_args)
                    assert Path(recipe[recipe.index("--config") + 1]).is_file(), (doc, part)
            for word in words:
                if re.fullmatch(r"(accelerate_configs|training|bench|lm_eval_tasks|evaluate_metrics)/[\w./-]+", word):
                    assert (ROOT / word).exists(), (doc, part, word)
            if words[:2] == ["python", "-m"]:
                assert importlib.util.find_spec(words[2]) is not None, (doc, part)
