"""The `acc` command line: `acc serve` (the trainer API) and the tools built on the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from acc.step_inspector import (
    DEFAULT_MAX_FULL_SNAPSHOTS,
    DEFAULT_MAX_HISTORY_STEPS,
    DEFAULT_MAX_SNAPSHOT_BYTES,
    DEFAULT_MAX_VECTOR_HISTORY,
    CaptureBudget,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def _integer(name: str, low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in low..high (no upper bound when `high` is None), else an
    error naming `name`, the allowed range and the value given."""
    allowed = f">= {low}" if high is None else f"in {low}..{high}"

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < low or (high is not None and number > high):
            raise argparse.ArgumentTypeError(f"{name} must be an integer {allowed}, got {value!r}")
        return number

    return parse


_port = _integer("port", 1, 65535)
_steps = _integer("steps", 1)
_seed = _integer("seed", 0)
_max_batches = _integer("max-batches", 1, 1000)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from acc.api.app import create_app
    from acc.data import DataError, load_mnist
    from acc.settings import Settings

    try:
        budget = CaptureBudget(
            args.snapshots, args.snapshot_mb * 2**20, args.history_steps, args.vector_history
        )
    except ValueError as error:
        print(f"acc serve: {error}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding to {args.host} exposes the trainer API (which runs training code) "
            "to every machine that can reach this address; the default is 127.0.0.1",
            file=sys.stderr,
        )
    try:
        data = load_mnist()
    except DataError as error:
        print(f"acc serve: {error}", file=sys.stderr)
        return 2
    settings = Settings(host=args.host, port=args.port, budget=budget)
    app = create_app(settings=settings, data=data)
    print(f"acc trainer API: http://{args.host}:{args.port}/health", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _available_devices() -> list[str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def _run(args: argparse.Namespace) -> int:
    from acc.data import DataError, load_mnist
    from acc.headless_run import SUMMARY_FILE, run_headless
    from acc.recipes import get_recipe

    try:
        get_recipe(args.recipe).check_condition(args.condition)
    except ValueError as error:
        print(f"acc run: {error}", file=sys.stderr)
        return 2
    devices = _available_devices()
    if args.device not in devices:
        print(
            f"acc run: device {args.device!r} is not available here; available: "
            f"{', '.join(devices)}",
            file=sys.stderr,
        )
        return 2
    try:
        data = load_mnist()
    except DataError as error:
        print(f"acc run: {error}", file=sys.stderr)
        return 2
    out = (
        args.out if args.out is not None else f"runs/{args.recipe}/{args.condition}-seed{args.seed}"
    )
    if args.recipe == "vqvae":
        return _run_vq(args, data, out)
    summary = run_headless(
        args.recipe,
        args.condition,
        args.steps,
        seed=args.seed,
        out_dir=out,
        device=args.device,
        data=data,
        progress=sys.stderr,
    )
    rates = " ".join(f"{rate:.3f}" for rate in summary.win_rates)
    print(
        f"{summary.recipe} {summary.condition} seed {summary.seed}: {summary.steps} steps on "
        f"{summary.device}, {summary.steps_per_second:.1f} steps/s\n"
        f"final loss            {summary.final_loss:.4f} "
        f"(mean of the last {summary.win_rate_window} steps {summary.final_loss_mean:.4f})\n"
        f"weight cosine (mean)  {summary.weight_cosine_mean:.4f}\n"
        f"dead features         {summary.dead_features} of {len(summary.win_rates)} "
        f"(win rate < {summary.dead_threshold} over the last {summary.win_rate_window} steps)\n"
        f"win rates             {rates}\n"
        f"summary               {Path(out) / SUMMARY_FILE}"
    )
    return 0


def _codebook_report(args: argparse.Namespace) -> int:
    from acc.data import DataError, load_mnist
    from acc.vq.checkpoint import CheckpointError
    from acc.vq.report import write_report

    data = None
    if args.checkpoint is not None:
        try:
            data = load_mnist()
        except DataError as error:
            print(f"acc codebook-report: {error}", file=sys.stderr)
            return 2
    try:
        result = write_report(args.out, data, args.checkpoint, args.max_batches)
    except CheckpointError as error:
        print(f"acc codebook-report: {error}", file=sys.stderr)
        return 2
    test = result["selftest"]
    print(f"self-test: shape {test['shape']}, loss {test['loss']:.4f}, usage {test['usage']:.3f}")
    if result["skipped"]:
        print(f"acc codebook-report: {result['skipped']}")
    else:
        for level in result["analysis"]["levels"]:
            print(
                f"level {level['level']}: {level['active_codes']} active codes "
                f"({level['usage_ratio']:.0%}), perplexity {level['perplexity_mean']:.1f} "
                f"± {level['perplexity_std']:.1f}, {level['dead_codes']} dead"
            )
    print(f"wrote {', '.join(result['written'])} to {args.out}")
    return 0


def _run_vq(args: argparse.Namespace, data: Any, out: str) -> int:
    from acc.vq.train import SUMMARY_FILE, train_vq_headless

    options = {
        "levels": args.levels,
        "commitment": args.commitment,
        "wasserstein_weight": args.wasserstein_weight,
        "wasserstein_epsilon": args.wasserstein_epsilon,
        "revive": args.revive,
    }
    try:
        summary = train_vq_headless(
            args.condition,
            args.steps,
            data=data,
            out_dir=out,
            seed=args.seed,
            device=args.device,
            options=options,
            progress=sys.stderr,
        )
    except ValueError as error:
        print(f"acc run: {error}", file=sys.stderr)
        return 2
    print(
        f"vqvae {args.condition} seed {args.seed}: {args.steps} steps, "
        f"{summary['steps_per_second']:.1f} steps/s, {summary['config']['num_codes']} codes/level"
    )
    for level in summary["levels"]:
        print(
            f"level {level['level']}: utilisation {level['utilisation']:.0%}, perplexity "
            f"{level['perplexity']:.1f}, dead {level['dead_codes']} (last {summary['window']} batches)"
        )
    print(f"summary {Path(out) / SUMMARY_FILE}, checkpoint {summary['checkpoint']}")
    return 0


def _codegen(args: argparse.Namespace) -> int:
    from acc.codegen import TENSOR_KEYS_TS, write_tensor_keys

    root = Path(args.root)
    if not (root / "dashboard").is_dir():
        print(f"acc codegen: {root} has no dashboard/ folder; pass --root REPO", file=sys.stderr)
        return 2
    current = write_tensor_keys(root, check=args.check)
    if args.check and not current:
        print(
            f"acc codegen: {TENSOR_KEYS_TS} is stale; run `.venv/bin/acc codegen` and commit it",
            file=sys.stderr,
        )
        return 1
    print(f"acc codegen: {TENSOR_KEYS_TS} {'is current' if current else 'written'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="acc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the trainer API")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 8787)")
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default warning)",
    )
    budget = serve.add_argument_group(
        "capture budget", "what each session and run keeps, and so the memory it may take"
    )
    budget.add_argument(
        "--snapshots",
        type=_integer("--snapshots", 0),
        default=DEFAULT_MAX_FULL_SNAPSHOTS,
        help=f"full-data steps kept (default {DEFAULT_MAX_FULL_SNAPSHOTS})",
    )
    budget.add_argument(
        "--snapshot-mb",
        type=_integer("--snapshot-mb", 0),
        default=DEFAULT_MAX_SNAPSHOT_BYTES // 2**20,
        help=f"MiB the full-data steps may take (default {DEFAULT_MAX_SNAPSHOT_BYTES // 2**20})",
    )
    budget.add_argument(
        "--history-steps",
        type=_integer("--history-steps", 1),
        default=DEFAULT_MAX_HISTORY_STEPS,
        help=f"steps whose scalars are kept (default {DEFAULT_MAX_HISTORY_STEPS})",
    )
    budget.add_argument(
        "--vector-history",
        type=_integer("--vector-history", 1),
        default=DEFAULT_MAX_VECTOR_HISTORY,
        help=f"steps whose [D]/[B] vectors are kept (default {DEFAULT_MAX_VECTOR_HISTORY})",
    )
    serve.set_defaults(handler=_serve)

    run = commands.add_parser(
        "run", help="train a recipe condition headless and write summary.json"
    )
    run.add_argument("recipe", metavar="RECIPE", help="recipe name, e.g. gradient_gating_l0")
    run.add_argument("--condition", required=True, help="the recipe's condition, e.g. bcl-med")
    run.add_argument("--steps", type=_steps, required=True, help="training steps (>= 1)")
    run.add_argument("--seed", type=_seed, default=0, help="seed of model and batches (default 0)")
    run.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="directory for summary.json (default runs/RECIPE/CONDITION-seedSEED)",
    )
    run.add_argument("--device", default="cpu", help="torch device (default cpu)")
    vq = run.add_argument_group("vqvae options")
    vq.add_argument("--levels", type=int, choices=[2, 3, 4], default=3, help="RVQ levels")
    vq.add_argument("--commitment", type=float, default=0.25, help="commitment weight β")
    vq.add_argument("--wasserstein-weight", type=float, default=0.0, help="Sinkhorn loss weight")
    vq.add_argument("--wasserstein-epsilon", type=float, default=0.05, help="Sinkhorn ε")
    vq.add_argument("--revive", action="store_true", help="re-seed dead codes from the batch")
    run.set_defaults(handler=_run)

    report = commands.add_parser(
        "codebook-report", help="analyse a VQ-VAE checkpoint's codebook (JSON + PNG)"
    )
    report.add_argument("--checkpoint", default=None, help="a checkpoint.pt from `acc run vqvae`")
    report.add_argument("--out", required=True, help="folder for the report files")
    report.add_argument(
        "--max-batches", type=_max_batches, default=10, help="evaluation batches (default 10)"
    )
    report.set_defaults(handler=_codebook_report)

    codegen = commands.add_parser(
        "codegen", help="write the dashboard's generated TypeScript (tensor keys and metadata)"
    )
    codegen.add_argument("--root", default=".", help="repository root (default: .)")
    codegen.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the file is stale"
    )
    codegen.set_defaults(handler=_codegen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: the process arguments), run the command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
