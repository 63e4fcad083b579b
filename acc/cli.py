"""The `acc` command line: `acc serve` (the trainer API) and the tools built on the library."""

# Nothing here imports torch at module level (a test checks it): `acc --help` and `acc --version`
# answer at once. Each command imports what it needs; options whose defaults live in modules that
# import torch (the capture budget, the VQ options) are added to their subcommand's parser only
# when that subcommand is parsed or its help printed.

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import acc
from acc.archive.cli import add_runs_dir_option, add_runs_parser
from acc.cpu_threads import MAX_THREADS, THREADS_ENV, configured_threads, use_threads
from acc.integers import parse_ascii_int

if TYPE_CHECKING:
    from acc.recipes.options import OptionSpec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_UI_PORT = 4321
VQ_RUNS = Path("runs") / "vqvae"  # where `acc run vqvae` writes by default
AUTO = "auto"
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose `deferred` callbacks add arguments on first use (parsing, usage or
    help), so that building the whole command tree imports nothing heavy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deferred: list[Callable[[argparse.ArgumentParser], None]] = []

    def _complete(self) -> None:
        while self.deferred:
            self.deferred.pop(0)(self)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()


def _integer(name: str, low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in low..high (no upper bound when `high` is None), else an
    error naming `name`, the allowed range and the value given."""
    allowed = f">= {low}" if high is None else f"in {low}..{high}"

    def parse(value: str) -> int:
        number = parse_ascii_int(value)
        if number is None or number < low or (high is not None and number > high):
            raise argparse.ArgumentTypeError(f"{name} must be an integer {allowed}, got {value!r}")
        return number

    return parse


def _number(name: str, low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite decimal number in low..high, else an error naming `name`, the
    allowed range and the value given."""

    def parse(value: str) -> float:
        number = float(value) if _NUMBER.fullmatch(value) else None
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"{name} must be a number in {low:g}..{high:g}, got {value!r}"
            )
        return number

    return parse


def _auto_or(parse: Callable[[str], int], name: str, allowed: str) -> Callable[[str], int | None]:
    """An argparse type: "auto" (None: the recipe chooses) or what `parse` accepts."""

    def parse_auto(value: str) -> int | None:
        if value == AUTO:
            return None
        try:
            return parse(value)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{name} must be {allowed}, got {value!r}") from None

    return parse_auto


_port = _integer("port", 1, 65535)
_steps = _integer("steps", 1)
_seed = _integer("seed", 0)
_max_batches = _integer("max-batches", 1, 1000)


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=_integer("--threads", 1, MAX_THREADS),
        default=None,
        metavar="N",
        help=f"CPU threads training uses (env {THREADS_ENV}; default every core but one, "
        "leaving one to the server and the browser)",
    )


def _use_threads(command: str, args: argparse.Namespace) -> bool:
    """Apply `--threads` (or its default); False after printing why the value is refused."""
    try:
        threads = args.threads if args.threads is not None else configured_threads()
    except ValueError as error:
        print(f"acc {command}: {error}", file=sys.stderr)
        return False
    use_threads(threads)
    args.threads = threads
    return True


def _serve(args: argparse.Namespace) -> int:
    from acc.api.app import create_app
    from acc.api.dashboard_site import BUILD_HINT, find_dashboard
    from acc.api.server import serve
    from acc.data import DEFAULT_BATCH_SIZE, DataError, check_batch_fits, load_mnist
    from acc.settings import Settings
    from acc.step_inspector import CaptureBudget

    try:
        budget = CaptureBudget(
            args.snapshots, args.snapshot_mb * 2**20, args.history_steps, args.vector_history
        )
    except ValueError as error:
        print(f"acc serve: {error}", file=sys.stderr)
        return 2
    if not _use_threads("serve", args):
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding to {args.host} exposes the trainer API (which runs training code) "
            "to every machine that can reach this address; the default is 127.0.0.1",
            file=sys.stderr,
        )
    try:
        data = load_mnist()
        check_batch_fits(len(data.train), DEFAULT_BATCH_SIZE)
    except DataError as error:
        print(f"acc serve: {error}", file=sys.stderr)
        return 2
    settings = Settings(
        host=args.host,
        port=args.port,
        budget=budget,
        allowed_hosts=tuple(args.allow_host),
        ui_port=args.ui_port,
        runs_dir=Path(args.runs_dir),
        runs_max_bytes=None if args.runs_max_mb is None else args.runs_max_mb * 2**20,
    )
    dashboard = find_dashboard()
    app = create_app(settings=settings, data=data, dashboard=dashboard)
    if app.state.archive.problem is not None:  # training still works; nothing is recorded
        print(f"acc serve: runs are not recorded: {app.state.archive.problem}", file=sys.stderr)
    # A wildcard bind is no name a browser may use (the guard refuses it as a Host): show loopback.
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(args.host, args.host)
    origin = f"http://{f'[{shown}]' if ':' in shown else shown}:{args.port}"
    if dashboard is None:
        print(
            f"acc serve: no built dashboard found, serving the API only; {BUILD_HINT}",
            file=sys.stderr,
        )
        print(f"acc trainer API: {origin}/health", flush=True)
    else:
        print(f"acc dashboard: {origin}/", flush=True)
    serve(app, args.host, args.port, log_level=args.log_level)
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
    from acc.archive.recorder import recording
    from acc.data import DataError, load_mnist
    from acc.headless_run import run_headless
    from acc.recipes import get_recipe, recipe_names

    try:
        recipe = get_recipe(args.recipe)
        if args.condition is None:
            args.condition = recipe.default_condition
        recipe.check_condition(args.condition)
    except ValueError as error:
        print(f"acc run: {error}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {}
    for name in recipe_names():  # flags given for this recipe's options only
        for option in get_recipe(name).options:
            if hasattr(args, option):
                if name != recipe.name:
                    flag = "--" + option.replace("_", "-")
                    print(
                        f"acc run: {flag} is an option of recipe {name}, not {recipe.name}",
                        file=sys.stderr,
                    )
                    return 2
                options[option] = getattr(args, option)
    if not _use_threads("run", args):
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
    try:
        # Recorded in the runs directory like every run (a damaged one records nothing).
        with recording(
            args.runs_dir,
            recipe=recipe.name,
            condition=args.condition,
            options={
                **options,
                "steps": args.steps,
                "device": args.device,
                "threads": args.threads,
            },
            seed=args.seed,
        ) as recorder:
            report = run_headless(
                recipe.name,
                args.condition,
                args.steps,
                out,
                seed=args.seed,
                device=args.device,
                data=data,
                options=options,
                progress=sys.stderr,
                callbacks=[recorder],
            )
    except ValueError as error:  # an option the recipe refuses (e.g. out of its range)
        print(f"acc run: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines))
    for warning in report.warnings:
        print(warning, file=sys.stderr)
    return 0


def _codebook_report(args: argparse.Namespace) -> int:
    from acc.data import DataError, load_mnist
    from acc.recipes.vqvae.checkpoint import CheckpointError
    from acc.recipes.vqvae.report import newest_checkpoint, write_report

    checkpoint: Path | None = None
    skipped = None
    if args.checkpoint is not None:
        checkpoint = Path(args.checkpoint)
        if not checkpoint.exists():
            skipped = f"checkpoint {checkpoint} does not exist: the codebook analysis was skipped"
            checkpoint = None
    else:
        checkpoint = newest_checkpoint(VQ_RUNS)
        if checkpoint is not None:
            print(f"acc codebook-report: using {checkpoint}, the newest checkpoint in {VQ_RUNS}")
    data = None
    if checkpoint is not None:
        try:
            data = load_mnist()
        except DataError as error:
            print(f"acc codebook-report: {error}", file=sys.stderr)
            return 2
    try:
        result = write_report(args.out, data, checkpoint, args.max_batches, skipped=skipped)
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


def _codegen(args: argparse.Namespace) -> int:
    from acc.codegen import write_generated

    root = Path(args.root)
    if not (root / "dashboard").is_dir():
        print(f"acc codegen: {root} has no dashboard/ folder; pass --root REPO", file=sys.stderr)
        return 2
    stale = write_generated(root, check=args.check)
    names = ", ".join(str(path) for path in stale)
    if args.check and stale:
        print(
            f"acc codegen: {names} is stale; run `.venv/bin/acc codegen` and commit it",
            file=sys.stderr,
        )
        return 1
    print(f"acc codegen: {f'{names} written' if stale else 'every generated file is current'}")
    return 0


def _add_budget_options(serve: argparse.ArgumentParser) -> None:
    from acc.step_inspector import (
        DEFAULT_MAX_FULL_SNAPSHOTS,
        DEFAULT_MAX_HISTORY_STEPS,
        DEFAULT_MAX_SNAPSHOT_BYTES,
        DEFAULT_MAX_VECTOR_HISTORY,
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


def _option_flag_type(spec: OptionSpec[Any]) -> Callable[[str], Any]:
    flag = "--" + spec.name.replace("_", "-")
    assert spec.low is not None and spec.high is not None
    if spec.kind == "float":
        return _number(flag, spec.low, spec.high)
    parse = _integer(flag, int(spec.low), int(spec.high))
    return parse if spec.default is not None else _auto_or(parse, flag, spec.allowed)


def _add_recipe_options(run: argparse.ArgumentParser) -> None:
    """Every recipe's options, one group per recipe: names, defaults and ranges from its
    `options`. A flag not given stays out of the namespace (the recipe's default applies)."""
    from acc.recipes import get_recipe, recipe_names

    for name in recipe_names():
        specs = get_recipe(name).options
        if not specs:
            continue
        group = run.add_argument_group(f"{name} options")
        for spec in specs.values():
            flag = "--" + spec.name.replace("_", "-")
            if spec.kind == "bool":
                group.add_argument(
                    flag, action="store_true", default=argparse.SUPPRESS, help=spec.help
                )
                continue
            default = AUTO if spec.default is None else f"{spec.default:g}"
            group.add_argument(
                flag,
                type=_option_flag_type(spec),
                default=argparse.SUPPRESS,
                metavar="N" if spec.kind == "int" else "X",
                help=f"{spec.help} ({spec.allowed}, default {default})",
            )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="acc", description=__doc__)
    parser.add_argument("--version", action="version", version=f"acc {acc.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="start the trainer API and, when it is built or packaged, the dashboard"
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 8787)")
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[name for name in os.environ.get("ACC_ALLOW_HOSTS", "").split(",") if name],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; env ACC_ALLOW_HOSTS, comma-"
        "separated). Loopback names and --host are always answered; any other Host is refused "
        "(DNS rebinding)",
    )
    serve.add_argument(
        "--ui-port",
        type=_integer("--ui-port", 1, 65535),
        default=os.environ.get("ACC_UI_PORT", str(DEFAULT_UI_PORT)),
        help="the dashboard's port: its pages may call the API directly (env ACC_UI_PORT, "
        f"default {DEFAULT_UI_PORT})",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default warning)",
    )
    add_runs_dir_option(serve)
    serve.add_argument(
        "--runs-max-mb",
        type=_integer("--runs-max-mb", 1),
        default=None,
        metavar="MB",
        help="cap the runs directory: beyond it the oldest kept tensors are deleted (scalars stay)",
    )
    _add_threads_option(serve)
    assert isinstance(serve, _Parser)
    serve.deferred.append(_add_budget_options)
    serve.set_defaults(handler=_serve)

    run = commands.add_parser(
        "run", help="train a recipe condition headless and write summary.json"
    )
    run.add_argument("recipe", metavar="RECIPE", help="recipe name, e.g. gradient_gating_l0")
    run.add_argument(
        "--condition",
        default=None,
        help="the recipe's condition, e.g. bcl-med (default: the recipe's default condition)",
    )
    run.add_argument("--steps", type=_steps, required=True, help="training steps (>= 1)")
    run.add_argument("--seed", type=_seed, default=0, help="seed of model and batches (default 0)")
    run.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="directory for summary.json (default runs/RECIPE/CONDITION-seedSEED)",
    )
    add_runs_dir_option(run)
    run.add_argument("--device", default="cpu", help="torch device (default cpu)")
    _add_threads_option(run)
    assert isinstance(run, _Parser)
    run.deferred.append(_add_recipe_options)
    run.set_defaults(handler=_run)

    report = commands.add_parser(
        "codebook-report", help="analyse a VQ-VAE checkpoint's codebook (JSON + PNG)"
    )
    report.add_argument(
        "--checkpoint",
        default=None,
        help="a checkpoint.pt from `acc run vqvae` (default: the newest under runs/vqvae/; "
        "a missing file skips the analysis)",
    )
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
    add_runs_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: the process arguments), run the command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
