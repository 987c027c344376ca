"""The README's first screen and CI must not drift apart."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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

    readme = (ROOT / "README.md").read_text()
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
    section = (ROOT / "README.md").read_text().split("`dvmap build` options", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `(--[\w-]+)[^|]*\| ([^|]+) \|", section, re.M)
    assert len(rows) >= 10
    for flag, cell in rows:
        cell = cell.strip().strip("`")
        if cell not in ("(required)", "see below"):
            default = defaults[flag]
            assert cell == (",".join(default) if isinstance(default, tuple) else str(default)), flag
