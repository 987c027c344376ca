"""`accelerate_configs/`: every launch config loads through accelerate."""

from __future__ import annotations

import pytest
from accelerate.commands.config.config_args import load_config_from_file

from tests.support import ROOT


@pytest.mark.parametrize(
    "name, distributed, processes, precision, stage",
    [
        ("zero3", "DEEPSPEED", 8, "bf16", 3),
        ("zero2", "DEEPSPEED", 8, "bf16", 2),
        ("ddp", "MULTI_GPU", 8, "bf16", None),
        ("single_gpu", "NO", 1, "bf16", None),
        ("cpu", "NO", 1, "no", None),
        ("cpu-ddp", "MULTI_GPU", 2, "no", None),
        ("cpu-zero2", "DEEPSPEED", 2, "no", 2),
        ("cpu-zero3", "DEEPSPEED", 2, "no", 3),
        ("zero3-multinode", "DEEPSPEED", 16, "bf16", 3),
    ],
)
def test_accelerate_configs_load_through_accelerate(name, distributed, processes, precision, stage):
    config = load_config_from_file(str(ROOT / "accelerate_configs" / f"{name}.yaml"))
    assert str(config.distributed_type).split(".")[-1] == distributed
    assert config.num_processes == processes and str(config.mixed_precision).split(".")[-1] == precision
    if stage is not None:
        assert config.deepspeed_config["zero_stage"] == stage
    if stage == 3:
        assert config.deepspeed_config["zero3_save_16bit_model"] is True
    if name == "cpu":
        assert config.use_cpu
    if name.startswith("cpu-"):  # accelerate launch starts the processes only for these types, without use_cpu
        assert not config.use_cpu and config.num_machines == 1
    if name == "zero3-multinode":
        assert config.num_machines == 2 and config.num_processes == 8 * config.num_machines
