"""Commands that publish to the Hugging Face Hub: `push` (a dataset folder), `push-model` (a trained model
with its evaluation results in the card) and `push-metrics`; `model-card` writes those results locally."""

from __future__ import annotations

import argparse

from . import command


@command("push", "publish a dataset folder to the Hugging Face Hub (same configs)")
def _push(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="dataset folder written by `dvmap build`")
    p.add_argument("--repo-id", required=True, help="e.g. my-org/dvmap")
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", default=None, help="branch to push to (default: main)")
    p.add_argument("--message", default=None, help="commit message (default: the library's)")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.hub import push_dataset_folder

        url = push_dataset_folder(
            args.folder, args.repo_id, private=args.private, revision=args.revision, message=args.message
        )
        print(f"pushed {args.folder} to {url}")

    p.set_defaults(handler=run)


@command("push-metrics", "publish the evaluate modules as Hub Spaces <namespace>/<metric>")
def _push_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--namespace", required=True, help="user or organisation on the Hub")
    p.add_argument("--private", action="store_true")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.hub import push_metrics

        for url in push_metrics(args.namespace, private=args.private):
            print(f"pushed {url}")

    p.set_defaults(handler=run)


def _runs_into_card(folder: str, runs: list[str]) -> None:
    from dvmap_hf.evaluation.report import read_metrics
    from dvmap_hf.training.card import with_eval_results

    if runs:
        print(f"card: {with_eval_results(folder, [read_metrics(run) for run in runs])} ({len(runs)} run(s))")


@command("model-card", "write evaluation runs' results into a model folder's card (the Hub's model-index)")
def _model_card(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a trained model's folder")
    p.add_argument("runs", nargs="+", help="run folders written by `dvmap eval` for this model")
    p.set_defaults(handler=lambda args: _runs_into_card(args.folder, args.runs))


@command("push-model", "publish a trained model folder to the Hub, its card carrying the runs' results")
def _push_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a trained model's folder")
    p.add_argument("--repo-id", required=True, help="e.g. my-org/qwen3-8b-dvmap")
    p.add_argument("--runs", nargs="*", default=[], help="`dvmap eval` run folders whose results go in the card")
    p.add_argument("--private", action="store_true")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.hub import push_model_folder

        _runs_into_card(args.folder, args.runs)
        print(f"pushed {args.folder} to {push_model_folder(args.folder, args.repo_id, private=args.private)}")

    p.set_defaults(handler=run)
