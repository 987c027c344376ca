"""Prepare here the wheels `bench/gpu_smoke.py` needs on a lent GPU machine (Python 3.12, x86-64, no network).

The device image has PyTorch, numpy, pandas, pyarrow and the other heavy packages; what it lacks, or has
at another version (TRL, datasets, transformers, huggingface_hub ...), travels as wheels: the exact
versions installed in this virtualenv, with everything they need that the image does not have, plus
DeepSpeed (built here as a pure-Python wheel: its CUDA ops compile on first use there).

    python bench/gpu_wheels.py            # download into .whl/ (git-ignored), print the device call
    python bench/gpu_wheels.py --list     # only print what would be fetched (no network)
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".whl"
LIMIT_MIB = 60  # the device call carries at most 64 MiB of working tree, code included
#: The training and evaluation stack whose versions must match this project's.
ROOTS = ("trl", "transformers", "datasets", "huggingface-hub", "accelerate", "peft")
#: DeepSpeed is not installed here (the `gpu` extra); its needs that the device image lacks.
DEEPSPEED = (("deepspeed", "0.19.8"), ("hjson", "3.1.0"))
#: In the device image (KINDS.md) and heavy or basic: left behind.
DEVICE_HAS = {
    *("torch", "triton", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn", "matplotlib", "pillow"),
    *("sympy", "networkx", "jinja2", "markupsafe", "pyyaml", "regex", "safetensors", "psutil", "packaging"),
    *("filelock", "tqdm", "typing-extensions", "setuptools", "requests", "urllib3", "certifi", "idna"),
    *("charset-normalizer", "six", "python-dateutil", "tzdata", "pytz"),
}
#: What the target is: the device's Python and platform.
DEVICE_MARKERS = {"python_version": "3.12", "platform_machine": "x86_64", "sys_platform": "linux", "extra": ""}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
PLATFORMS += ["manylinux1_x86_64"]


def _name(name: str) -> str:
    return name.lower().replace("_", "-")


def plan() -> list[tuple[str, str]]:
    """(name, version) of every wheel to carry: ROOTS and their needs as installed here, less DEVICE_HAS."""
    found: dict[str, str] = {}
    stack = list(ROOTS)
    while stack:
        name = _name(stack.pop())
        if name in found or name in DEVICE_HAS or name.startswith("nvidia-"):
            continue
        found[name] = metadata.version(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(DEVICE_MARKERS):
                stack.append(requirement.name)
    return sorted(found.items()) + list(DEEPSPEED)


def download(wanted: list[tuple[str, str]]) -> None:
    WHEELS.mkdir(exist_ok=True)
    binary = [f"{name}=={version}" for name, version in wanted if name != "deepspeed"]
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp"]
        + platforms
        + ["-d", str(WHEELS), *binary],
        check=True,
    )
    version = dict(wanted)["deepspeed"]  # an sdist only: build a pure-Python wheel (ops JIT-compile there)
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(WHEELS), f"deepspeed=={version}"], check=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the wheels to fetch and stop (no network)")
    args = parser.parse_args(argv)
    wanted = plan()
    print("\n".join(f"{name}=={version}" for name, version in wanted))
    if args.list:
        return 0
    download(wanted)
    size = sum(f.stat().st_size for f in WHEELS.glob("*.whl")) / 2**20
    print(f"\n{len(list(WHEELS.glob('*.whl')))} wheels, {size:.1f} MiB in {WHEELS}")
    if size > LIMIT_MIB:
        print(f"too large to carry (limit {LIMIT_MIB} MiB with the code): remove older wheels from {WHEELS}")
        return 1
    print(
        'device run: carry [".whl"], command:\n'
        "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "
        ".whl/*.whl && export PYTHONPATH=/tmp/site:$PWD && python3 bench/gpu_smoke.py --out $OUT"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
