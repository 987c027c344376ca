"""GRPO past one machine: the commands a SLURM job runs on N nodes x G GPUs under DeepSpeed ZeRO-3, with an
optional vLLM server for generation (TRL's `vllm_mode: server`, `trl vllm-serve`), as large GRPO runs do.

Where the vLLM server goes: on one node, its last GPU (G - 1 training processes); on more, a node of its
own, the last (its G GPUs serve as data-parallel vLLM workers; torchrun needs the same number of processes
on every training node, so the other nodes keep all G). The batch of the recipe is checked on the processes
that train before anything starts.

    python -m dvmap_hf.training.cluster --nodes 4 --config qwen3-8b [--vllm-server] --dry-run
    sbatch --nodes 4 training/slurm/grpo.slurm --config qwen3-8b [--vllm-server] [recipe flags]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass

from ..errors import DvmapError
from ..resources import resource_folder
from .arguments import batch_settings, grpo_batch_problem, recipe_settings, with_recipe_path


@dataclass(frozen=True)
class ClusterPlan:
    nodes: int
    gpus_per_node: int = 8
    vllm_server: bool = False
    head: str = "$HEAD_NODE"  # first node's host name (the rendezvous)
    last: str = "$LAST_NODE"  # last node's host name (the vLLM server's, on more than one node)
    port: int = 29500
    vllm_port: int = 8000
    vllm_tensor_parallel: int = 1

    def __post_init__(self):
        if self.nodes < 1 or self.gpus_per_node < 1:
            raise SystemExit(f"--nodes {self.nodes} --gpus-per-node {self.gpus_per_node}: both must be >= 1")
        if self.vllm_server and self.nodes == 1 and self.gpus_per_node < 2:
            raise SystemExit("--vllm-server on one node needs >= 2 GPUs (one serves, the others train)")
        if self.vllm_server and self.vllm_gpus % self.vllm_tensor_parallel:
            raise SystemExit(
                f"--vllm-tensor-parallel {self.vllm_tensor_parallel} does not divide the {self.vllm_gpus} vLLM GPUs"
            )

    @property
    def training_nodes(self) -> int:
        return self.nodes - 1 if self.vllm_server and self.nodes > 1 else self.nodes

    @property
    def processes_per_node(self) -> int:
        return self.gpus_per_node - 1 if self.vllm_server and self.nodes == 1 else self.gpus_per_node

    @property
    def processes(self) -> int:
        """Training processes: nodes x GPUs, less the vLLM server's GPUs."""
        return self.training_nodes * self.processes_per_node

    @property
    def vllm_gpus(self) -> int:
        return 1 if self.nodes == 1 else self.gpus_per_node

    @property
    def vllm_host(self) -> str:
        return "127.0.0.1" if self.nodes == 1 else self.last


def _config(name: str) -> str:
    return str(resource_folder("accelerate_configs") / f"{name}.yaml")


def vllm_command(plan: ClusterPlan, model: str) -> list[str]:
    serve = ["trl", "vllm-serve", "--model", model, "--port", str(plan.vllm_port)]
    serve += ["--tensor_parallel_size", str(plan.vllm_tensor_parallel)]
    serve += ["--data_parallel_size", str(plan.vllm_gpus // plan.vllm_tensor_parallel)]
    if plan.nodes == 1:
        return ["env", f"CUDA_VISIBLE_DEVICES={plan.gpus_per_node - 1}", *serve]
    return ["srun", "--nodes=1", "--ntasks=1", f"--nodelist={plan.last}", *serve]


def training_command(plan: ClusterPlan, recipe_argv: list[str]) -> list[str]:
    entry = ["-m", "dvmap_hf.training.grpo", *recipe_argv]
    if plan.vllm_server:
        entry += ["--use_vllm", "true", "--vllm_mode", "server"]
        entry += ["--vllm_server_host", plan.vllm_host, "--vllm_server_port", str(plan.vllm_port)]
    if plan.training_nodes == 1:
        launch = ["accelerate", "launch", "--config_file", _config("zero3"), "--num_processes", str(plan.processes)]
        if not plan.vllm_server:
            return [*launch, *entry]
        return ["env", f"CUDA_VISIBLE_DEVICES={','.join(map(str, range(plan.processes)))}", *launch, *entry]
    launch = ["accelerate", "launch", "--config_file", _config("zero3-multinode")]
    launch += ["--num_machines", str(plan.training_nodes), "--num_processes", str(plan.processes)]
    launch += [
        "--machine_rank",
        "$SLURM_NODEID",
        "--main_process_ip",
        plan.head,
        "--main_process_port",
        str(plan.port),
    ]
    # one task a node; $SLURM_NODEID (and a $HEAD_NODE placeholder) is expanded on each node, by its own shell
    inner = " ".join(word if word.startswith("$") else shlex.quote(word) for word in [*launch, *entry])
    srun = ["srun", f"--nodes={plan.training_nodes}", "--ntasks-per-node=1"]
    srun += [f"--exclude={plan.last}"] if plan.vllm_server else []
    return [*srun, "bash", "-c", inner]


def plan_commands(plan: ClusterPlan, recipe_argv: list[str]) -> list[list[str]]:
    """The commands, in order (the vLLM server first, in the background); refuses a batch that does not
    divide on the training processes."""
    problem = grpo_batch_problem(batch_settings(recipe_argv), plan.processes)
    if problem:
        raise SystemExit(f"GRPO batch on {plan.processes} training processes: {problem}")
    commands = [training_command(plan, recipe_argv)]
    if plan.vllm_server:
        model = recipe_settings(recipe_argv, {"model_name_or_path": None})["model_name_or_path"]
        if not model:
            raise SystemExit("--vllm-server: the recipe names no model_name_or_path for the server to load")
        commands.insert(0, vllm_command(plan, str(model)))
    return commands


def run(commands: list[list[str]], vllm_server: bool) -> int:
    """The vLLM server (if any) in the background, the training in the foreground; the server is stopped
    when training ends."""
    server = subprocess.Popen(commands[0]) if vllm_server else None
    try:
        return subprocess.run(commands[-1]).returncode
    finally:
        if server is not None:
            server.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("SLURM_NNODES", "1")))
    parser.add_argument("--gpus-per-node", type=int, default=int(os.environ.get("SLURM_GPUS_ON_NODE", "8")))
    parser.add_argument("--vllm-server", action="store_true", help="generate with `trl vllm-serve` on its own GPUs")
    parser.add_argument("--vllm-tensor-parallel", type=int, default=1)
    parser.add_argument("--head", default=ClusterPlan.head, help="first node's host name")
    parser.add_argument("--last", default=ClusterPlan.last, help="last node's host name")
    parser.add_argument("--port", type=int, default=ClusterPlan.port)
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args, recipe_argv = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    plan = ClusterPlan(
        nodes=args.nodes,
        gpus_per_node=args.gpus_per_node,
        vllm_server=args.vllm_server,
        head=args.head,
        last=args.last,
        port=args.port,
        vllm_tensor_parallel=args.vllm_tensor_parallel,
    )
    try:
        commands = plan_commands(plan, with_recipe_path(recipe_argv))
    except DvmapError as exc:  # a recipe that is missing or broken: one line, as the planner's other checks
        raise SystemExit(str(exc)) from None
    print(
        f"# {plan.nodes} node(s) x {plan.gpus_per_node} GPUs: {plan.processes} training processes on "
        f"{plan.training_nodes} node(s)" + (f", vLLM on {plan.vllm_gpus} GPU(s)" if plan.vllm_server else ""),
        flush=True,
    )
    for command in commands:
        print(shlex.join(command) + (" &" if command is not commands[-1] else ""), flush=True)
    return 0 if args.dry_run else run(commands, plan.vllm_server)


if __name__ == "__main__":
    sys.exit(main())
