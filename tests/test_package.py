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
