"""Commands that publish to the Hugging Face Hub: `push` (a dataset folder) and `push-metrics`."""

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
