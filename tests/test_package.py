"""The package's layout: the layers and rooms point one way, `import dvmap_hf` stays light."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT


def _imported_packages(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_layers_point_one_way():
    """dvmap_app uses both libraries; dataset_builder builds on the core; the core imports neither."""
    assert not {"dataset_builder", "dvmap_app"} & _imported_packages(ROOT / "dvmap_hf")
    assert "dvmap_app" not in _imported_packages(ROOT / "dataset_builder")
    assert {"dvmap_hf", "dataset_builder"} <= _imported_packages(ROOT / "dvmap_app")


#: Which rooms of the core each room may import (the shared pieces: errors, options, io, resources, paper, redact).
ROOMS = {
    "data": set(),
    "evaluation": {"data"},
    "training": {"data", "evaluation"},
    "analysis": {"data", "evaluation"},
    "hub": {"data"},  # publishing: reads dataset folders
}
SHARED = {"errors", "options", "io", "resources", "paper", "redact"}


def _core_imports(path: Path) -> set[str]:
    """The dvmap_hf modules a file of the core imports, as absolute names (relative imports resolved)."""
    package = list(path.relative_to(ROOT).with_suffix("").parts)[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            names.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dvmap_hf"):
            names.add(node.module)
    return {name for name in names if name.startswith("dvmap_hf")}


def test_the_rooms_of_the_core_point_one_way():
    """data <- evaluation <- training; analyses read data and evaluations; the shared pieces import no room."""
    for path in (ROOT / "dvmap_hf").rglob("*.py"):
        parts = path.relative_to(ROOT / "dvmap_hf").parts
        room = parts[0] if len(parts) > 1 else path.stem
        allowed = ROOMS.get(room, set()) | {room} | SHARED
        for name in _core_imports(path):
            target = name.split(".")[1] if name.count(".") else ""
            assert target in allowed or target == "", f"{path.relative_to(ROOT)} imports {name}"


def test_importing_the_package_and_the_command_line_stays_light():
    """`import dvmap_hf`, the option declarations and `dvmap`'s parser load no pandas, pyarrow, torch or datasets."""
    import subprocess
    import sys

    code = (
        "import sys, dvmap_hf, dvmap_hf.evaluation.config, dataset_builder.config, dvmap_app.cli as c; c.parser(); "
        "print(sorted({'pandas', 'torch', 'datasets', 'pyarrow', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
