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
