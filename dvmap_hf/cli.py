"""The `dvmap` command. Each subcommand imports its heavy parts only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import DvmapError

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help: str):
    """Register `fn(parser)` that adds the subcommand's options and sets its handler."""

    def register(fn):
        COMMANDS[name] = (help, fn)
        return fn

    return register


def csv_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def split_sizes(text: str) -> dict[tuple[str, str], int]:
    """Parse `corpus/train=268,cross_value/test=110` into {(config, split): profiles per country}."""
    sizes = {}
    for item in csv_list(text):
        key, _, value = item.partition("=")
        config, _, split = key.partition("/")
        if not value.isdigit() or not split:
            raise DvmapError(f"--profiles: expected CONFIG/SPLIT=N items, got {item!r}")
        sizes[config.strip(), split.strip()] = int(value)
    return sizes


@command("quickstart", "the whole kit on the embedded synthetic default, on a CPU, in minutes")
def _quickstart(p: argparse.ArgumentParser) -> None:
    from .quickstart import QuickstartSpec

    p.add_argument("--out", type=Path, default=QuickstartSpec.out, help="folder for everything (default: quickstart)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--respondents", type=int, default=QuickstartSpec.respondents)
    p.add_argument("--sft-steps", type=int, default=QuickstartSpec.sft_steps)
    p.add_argument("--grpo-steps", type=int, default=QuickstartSpec.grpo_steps)
    p.add_argument("--eval-rows", type=int, default=QuickstartSpec.eval_rows)
    p.add_argument("--seed", type=int, default=QuickstartSpec.seed)

    def run(args: argparse.Namespace) -> None:
        from .quickstart import quickstart

        spec = QuickstartSpec(
            out=args.out,
            respondents=args.respondents,
            sft_steps=args.sft_steps,
            grpo_steps=args.grpo_steps,
            eval_rows=args.eval_rows,
            seed=args.seed,
            force=args.force,
        )
        print(quickstart(spec))

    p.set_defaults(handler=run)


@command("build", "build the corpus and benchmark configs from a WVS Wave 7 file")
def _build(p: argparse.ArgumentParser) -> None:
    from dataset_builder.config import DEFAULT_PROFILES_PER_COUNTRY, DEFAULT_REQUIRED
    from dvmap_hf.codebook import CROSS_COUNTRIES, TRAINING_COUNTRIES

    p.add_argument("--wvs", required=True, help="WVS Wave 7 file: .sav, .dta or .csv (v5 or v6)")
    p.add_argument("--out", default="dvmap", help="output dataset folder (default: dvmap)")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument(
        "--countries",
        type=csv_list,
        default=TRAINING_COUNTRIES,
        help=f"training countries, ISO3 (default: {','.join(TRAINING_COUNTRIES)})",
    )
    p.add_argument(
        "--cross-countries",
        type=csv_list,
        default=CROSS_COUNTRIES,
        help=f"unseen countries of cross_country (default: {','.join(CROSS_COUNTRIES)})",
    )
    p.add_argument("--consensus", default="strict", help="strict (H == 0, default) or majority (mode answer, H >= 0)")
    p.add_argument("--min-support", type=int, default=1, help="least respondents behind a (profile, question) row")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--prompt-style",
        default="structured_cot",
        help="structured_cot (default, the paper's App. C), free_cot, direct, or release (the authors' released text)",
    )
    p.add_argument(
        "--system-prompt",
        default="release",
        help="release (default: the authors' system message before every prompt) or none (user turn only)",
    )
    defaults = ",".join(f"{c}/{s}={n}" for (c, s), n in DEFAULT_PROFILES_PER_COUNTRY.items())
    p.add_argument(
        "--profiles",
        type=split_sizes,
        default={},
        help=f"profiles drawn per country, CONFIG/SPLIT=N items overriding the defaults ({defaults})",
    )
    p.add_argument(
        "--require",
        type=csv_list,
        default=DEFAULT_REQUIRED,
        help="attributes a respondent must have answered (default: life_stage,income_bracket; '' = none)",
    )
    p.add_argument("--uk", default="merge", help="merge (GBR = Great Britain + Northern Ireland, default) or gbr-only")

    def run(args: argparse.Namespace) -> None:
        from dataset_builder import BuildConfig, build_folder, format_report

        config = BuildConfig(
            wvs=args.wvs,
            training_countries=args.countries,
            cross_countries=args.cross_countries,
            consensus=args.consensus,
            min_support=args.min_support,
            seed=args.seed,
            prompt_style=args.prompt_style,
            system_prompt=args.system_prompt,
            profiles_per_country={**DEFAULT_PROFILES_PER_COUNTRY, **args.profiles},
            required_attributes=args.require,
            uk=args.uk,
        )
        print(format_report(build_folder(config, args.out, force=args.force)))

    p.set_defaults(handler=run)


@command("synth-wvs", "write a SYNTHETIC WVS-format file (.sav with value labels, .dta or .csv)")
def _synth(p: argparse.ArgumentParser) -> None:
    from dvmap_hf.synth import DEFAULT_COUNTRIES, SynthSpec

    p.add_argument("--out", required=True, help="file to write: .sav, .dta or .csv")
    p.add_argument("--respondents", type=int, default=SynthSpec.respondents)
    p.add_argument("--seed", type=int, default=SynthSpec.seed)
    p.add_argument("--countries", type=csv_list, default=DEFAULT_COUNTRIES)
    p.add_argument("--noise", type=float, default=SynthSpec.noise, help="answer noise; more noise, more divergence")
    p.add_argument("--filler-columns", type=int, default=0, help="extra columns, to mimic the ~600-variable file")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.synth import write_synthetic_wvs

        if Path(args.out).exists() and not args.force:
            raise DvmapError(f"{args.out}: exists (use --force to replace it)")
        spec = SynthSpec(args.respondents, args.countries, args.seed, args.noise, args.filler_columns)
        print(f"wrote {write_synthetic_wvs(args.out, spec)} (SYNTHETIC, {args.respondents:,} respondents)")

    p.set_defaults(handler=run)


@command("push", "publish a dataset folder to the Hugging Face Hub (same configs)")
def _push(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="dataset folder written by `dvmap build`")
    p.add_argument("--repo-id", required=True, help="e.g. my-org/dvmap")
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", default=None, help="branch to push to (default: main)")
    p.add_argument("--message", default="Upload DVMap dataset built with dvmap-hf")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.hub import push_dataset_folder

        url = push_dataset_folder(
            args.folder, args.repo_id, private=args.private, revision=args.revision, message=args.message
        )
        print(f"pushed {args.folder} to {url}")

    p.set_defaults(handler=run)


@command("import-release", "import the authors' released DVMap files into a dataset folder of the kit")
def _import_release(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="the release repository root, or any of its parquet files / benchmark folders")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument(
        "--system-prompt",
        default="release",
        help="release (default: the authors' system message before every prompt) or none (user turn only)",
    )

    def run(args: argparse.Namespace) -> None:
        from .release import import_release

        report = import_release(args.path, args.out, force=args.force, system_prompt=args.system_prompt)
        for key, n in report["sizes"].items():
            print(f"{key:<26}{n:>9,} rows")
        for problem in report["problems"]:
            rejected = problem["unparseable_options"] + problem["answer_not_in_options"] + problem["empty_fields"]
            if rejected:
                print(
                    f"{problem['source']}: {rejected} row(s) left out "
                    f"({problem['answer_not_in_options']} answer not in options, "
                    f"{problem['unparseable_options']} unparseable Options, "
                    f"{problem['empty_fields']} with empty fields); first: {problem['examples'][:3]}"
                )
        print(f"wrote {report['out']}")

    p.set_defaults(handler=run)


@command("compare-release", "how a build differs from the release (sizes, countries, questions, values, answers)")
def _compare_release(p: argparse.ArgumentParser) -> None:
    p.add_argument("--build", required=True, help="dataset folder written by `dvmap build`")
    p.add_argument("--release", required=True, help="folder written by `dvmap import-release`, or the raw release")

    def run(args: argparse.Namespace) -> None:
        import tempfile

        from .release import compare_folders, import_release

        release = Path(args.release)
        with tempfile.TemporaryDirectory() as tmp:
            if not (release / "dvmap_manifest.json").is_file():
                import_release(release, Path(tmp) / "release")
                release = Path(tmp) / "release"
            print(compare_folders(args.build, release))

    p.set_defaults(handler=run)


ANALYSES = ("entropy", "importance", "consensus", "semantic", "difficulty")


@command("analyze", "the paper's analyses: entropy, importance, consensus, semantic, difficulty")
def _analyze(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=ANALYSES)
    p.add_argument("--out", required=True, help="folder for the CSV, PNG and markdown summary")
    p.add_argument("--wvs", help="WVS file (entropy, importance, consensus)")
    p.add_argument("--country", default="USA", help="entropy: ISO3 country (default USA)")
    p.add_argument("--seed", type=int, default=0, help="importance: random forest seed")
    p.add_argument("--trees", type=int, default=100, help="importance: trees per forest")
    p.add_argument(
        "--min-support",
        type=lambda t: tuple(int(x) for x in csv_list(t)),
        default=(1, 2, 3, 5),
        help="consensus: comma-separated values (default 1,2,3,5)",
    )
    p.add_argument("--embedder", help="semantic: local HF model or sentence-transformers folder")
    p.add_argument("--dataset", default=None, help="semantic: take the question wording from this dataset")
    p.add_argument("--run", help="difficulty: run folder; semantic: the trained model's cross_value run")
    p.add_argument("--base-run", help="semantic: the base model's cross_value run (accuracy gains = run - base)")

    def run(args: argparse.Namespace) -> None:
        from . import analysis

        need = {
            "entropy": ["wvs"],
            "importance": ["wvs"],
            "consensus": ["wvs"],
            "semantic": ["embedder"],
            "difficulty": ["run"],
        }[args.kind]
        missing = [f"--{n.replace('_', '-')}" for n in need if getattr(args, n) is None]
        if missing:
            raise DvmapError(f"analyze {args.kind} needs {', '.join(missing)}")
        if args.kind == "entropy":
            analysis.analyze_entropy(args.wvs, args.country, args.out)
        elif args.kind == "importance":
            analysis.analyze_importance(args.wvs, args.out, args.seed, args.trees)
        elif args.kind == "consensus":
            analysis.analyze_consensus(args.wvs, args.out, args.min_support)
        elif args.kind == "semantic":
            analysis.analyze_semantic(args.embedder, args.out, args.run, args.base_run, args.dataset)
        else:
            analysis.analyze_difficulty(args.run, args.out)
        print((Path(args.out) / f"{args.kind}.md").read_text())

    p.set_defaults(handler=run)


def _model_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `eval` and `robustness`: what to ask and how to generate."""
    p.add_argument(
        "--model",
        required=True,
        help="model folder / Hub id, an endpoint's model name (openai), or random | majority | tabular",
    )
    p.add_argument("--dataset", default="dvmap", help="dataset folder or Hub id (default: dvmap)")
    p.add_argument("--config", default="cross_demographic", help="config (default: cross_demographic)")
    p.add_argument("--split", default=None, help="split (default: test, or the config's only split)")
    p.add_argument("--backend", default="transformers", help="transformers (default), vllm or openai")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=1024)
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (paper: 0.7)")
    p.add_argument(
        "--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0: off, whatever the model ships)"
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=0,
        help="top-k sampling (default 0: off, whatever the model ships; openai backend: sent only when set)",
    )
    p.add_argument("--greedy", action="store_true", help="greedy decoding instead of sampling")
    p.add_argument(
        "--scoring",
        default="generate",
        help="generate (default: a sampled completion, parsed) or loglik (each option's log-likelihood as the "
        "answer; transformers and vllm backends)",
    )
    p.add_argument(
        "--no-chat-template",
        dest="chat_template",
        action="store_false",
        help="transformers backend: plain concatenation of the messages even when the model has a chat template",
    )
    p.add_argument(
        "--match",
        default="strict",
        help="answer matching: strict (default: exact option) or release (the authors' script: also an answer "
        "containing exactly one option); metrics.json reports accuracy under both",
    )
    p.add_argument("--enable-thinking", action="store_true", help="Qwen3 thinking mode (off by default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="a seeded sample of N rows (same seed, same rows)")
    p.add_argument(
        "--repair", action="store_true", help="drop unusable lines of predictions.jsonl and ask those rows again"
    )
    p.add_argument("--concurrency", type=int, default=8, help="openai backend: requests in flight")
    p.add_argument("--timeout", type=float, default=60.0, help="openai backend: seconds one request may take")
    p.add_argument(
        "--max-retries", type=int, default=3, help="openai backend: retries after a 5xx, 429 or timeout (backoff)"
    )
    p.add_argument("--api-base", default=None, help="openai backend: base URL (default: $OPENAI_BASE_URL)")
    p.add_argument("--dtype", default="auto", help="transformers backend: auto, bfloat16, float32 ...")
    p.add_argument(
        "--device", default="auto", help="transformers backend: auto (cuda if present, else cpu), cuda:1 ..."
    )


def _spec(args: argparse.Namespace):
    from .evaluation import EvalSpec
    from .predictors import GenerationConfig

    if args.batch_size < 1:
        raise DvmapError(f"--batch-size must be >= 1, not {args.batch_size}")
    generation = GenerationConfig(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        greedy=args.greedy,
        enable_thinking=args.enable_thinking,
        seed=args.seed,
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        timeout=args.timeout,
        max_retries=args.max_retries,
        api_base=args.api_base,
        dtype=args.dtype,
        device=args.device,
        chat_template=args.chat_template,
    )
    return EvalSpec(
        args.model,
        args.dataset,
        args.config,
        args.split,
        args.backend,
        args.limit,
        generation,
        match=args.match,
        scoring=args.scoring,
        repair=args.repair,
    )


@command("eval", "evaluate a model or a reference predictor on one config/split (resumable)")
def _eval(p: argparse.ArgumentParser) -> None:
    _model_options(p)

    def run(args: argparse.Namespace) -> None:
        from .evaluation import run_eval
        from .report import paper_table

        run_eval(_spec(args), args.out)
        print(paper_table([args.out]))
        print(f"report: {args.out}/report.md")

    p.set_defaults(handler=run)


@command("robustness", "flip one attribute (income Low <-> High by default) and report the value flip rate")
def _robustness(p: argparse.ArgumentParser) -> None:
    _model_options(p)
    p.add_argument("--attribute", default="income_bracket")
    p.add_argument(
        "--flip",
        action="append",
        default=[],
        metavar="A=B",
        help="value pair to swap (repeatable; default for income_bracket: Low income=High income)",
    )

    def run(args: argparse.Namespace) -> None:
        from .evaluation import DEFAULT_FLIPS, run_robustness

        flips = {}
        for pair in args.flip:
            a, sep, b = pair.partition("=")
            if not sep or not a.strip() or not b.strip():
                raise DvmapError(f"--flip expects A=B, got {pair!r}")
            flips |= {a.strip(): b.strip(), b.strip(): a.strip()}
        flips = flips or DEFAULT_FLIPS.get(args.attribute)
        if not flips:
            raise DvmapError(f"--attribute {args.attribute} needs at least one --flip A=B")
        result = run_robustness(_spec(args), args.attribute, flips, args.out)
        print((Path(args.out) / "robustness.md").read_text())
        print(f"overall flip rate: {result['overall']['flip_rate']}")

    p.set_defaults(handler=run)


@command("compare", "the paper-style table (model, Acc, LC, WD) of several run folders, as markdown")
def _compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders written by `dvmap eval`")

    def run(args: argparse.Namespace) -> None:
        from .report import paper_table

        print(paper_table(args.runs))

    p.set_defaults(handler=run)


@command("push-metrics", "publish the evaluate modules as Hub Spaces <namespace>/<metric>")
def _push_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--namespace", required=True, help="user or organisation on the Hub")
    p.add_argument("--private", action="store_true")

    def run(args: argparse.Namespace) -> None:
        from .hub import push_metrics

        for url in push_metrics(args.namespace, private=args.private):
            print(f"pushed {url}")

    p.set_defaults(handler=run)


@command("tiny-model", "save a tiny random Qwen3 with a locally trained tokenizer (CPU runs, no download)")
def _tiny_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    p.add_argument("--hidden-size", type=int, default=64, help="a multiple of 8 (default 64)")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)

    def run(args: argparse.Namespace) -> None:
        from .io import check_output_dir
        from .tiny import build_tiny_model

        check_output_dir(args.out, force=args.force)
        print(f"wrote {build_tiny_model(args.out, args.hidden_size, args.layers, args.seed)}")

    p.set_defaults(handler=run)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dvmap", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add) in COMMANDS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)  # option types may raise DvmapError too
        args.handler(args)
    except DvmapError as exc:
        print(f"dvmap: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable folder, a full disk ...: the path and the reason, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dvmap: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dvmap: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
