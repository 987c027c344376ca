"""After the tests, with the wheel installed (not editable) and run from outside the checkout: every file a
command reads comes from the installed package. Recipes parse through the training script's parser,
launch configs load through accelerate, push-metrics uploads the installed evaluate modules (to a
recording stand-in for the Hub), the shipped survey specs parse, and `dvmap --help` answers."""

import subprocess
import sys
from pathlib import Path

import dvmap_hf
from dvmap_hf import hub
from dvmap_hf.resources import RESOURCES, resource_folder

package = Path(dvmap_hf.__file__).resolve().parent
assert "site-packages" in str(package), f"not the installed wheel: {package}"
for name in RESOURCES:
    folder = resource_folder(name)
    assert folder.is_relative_to(package) and any(folder.iterdir()), folder

from accelerate.commands.config.config_args import load_config_from_file  # noqa: E402

from dvmap_hf.training.arguments import parse_grpo, parse_sft  # noqa: E402

recipes = sorted(resource_folder("recipes").glob("*.yaml"))
for recipe in recipes:
    (parse_sft if "sft" in recipe.stem else parse_grpo)(["--config", str(recipe), "--use_cpu", "true"])
for config in sorted(resource_folder("accelerate_configs").glob("*.yaml")):
    load_config_from_file(str(config))


class Recorder:
    def __init__(self):
        self.uploads = []

    def create_repo(self, repo_id, **kwargs):
        return repo_id

    def upload_folder(self, folder_path, **kwargs):
        self.uploads.append(Path(folder_path))

    def upload_file(self, **kwargs):
        assert Path(kwargs["path_or_fileobj"]).is_file(), kwargs["path_or_fileobj"]  # the numpy core


recorder = Recorder()
hub.hub_api = lambda: recorder
urls = hub.push_metrics("ci-check")
assert len(urls) == len(hub.METRIC_NAMES) and all((f / "README.md").is_file() for f in recorder.uploads)
from dvmap_hf.data.survey import SHIPPED, load_spec, shipped_specs  # noqa: E402

surveys = shipped_specs()
assert SHIPPED.is_relative_to(package) and len(surveys) >= 6 and all(load_spec(name).questions for name in surveys)
subprocess.run([Path(sys.executable).parent / "dvmap", "--help"], check=True, capture_output=True)
counted = f"{len(recipes)} recipes, {len(urls)} evaluate modules, {len(surveys)} survey specs"
print(f"wheel check: {counted}, all from {package}")
