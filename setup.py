"""Build hook: a wheel carries the repository's recipes, launch configs, evaluate modules and harness tasks
in `dvmap_hf/_resources/` (the list is `dvmap_hf.resources.RESOURCES`); an editable install reads them
from the checkout. Everything else is in setup.cfg."""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = runpy.run_path(str(Path(__file__).parent / "dvmap_hf" / "resources.py"))["RESOURCES"]


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name, source in RESOURCES.items():
            target = Path(self.build_lib) / "dvmap_hf" / "_resources" / name
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithResources})
