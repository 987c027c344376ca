"""`accelerate launch training/grpo.py --config ...` from a checkout: the same run as the installed entry point
`accelerate launch -m dvmap_hf.training.grpo` (its docstring has the commands)."""

from dvmap_hf.training.grpo import main

if __name__ == "__main__":
    from dvmap_hf.training.launched import run_launched

    run_launched(main)
