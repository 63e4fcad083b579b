"""`acc runs list` and `acc runs export`: the runs archive from the command line."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acc.archive.vocabulary import DEFAULT_RUNS_DIR, RunStatus

if TYPE_CHECKING:
    from acc.archive.store import RunArchive

FORMATS = ("csv", "json")


def default_runs_dir() -> str:
    """`$ACC_RUNS_DIR` when set, else ./acc-runs."""
    return os.environ.get("ACC_RUNS_DIR") or DEFAULT_RUNS_DIR


def add_runs_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        default=default_runs_dir(),
        metavar="DIR",
        help=f"the runs directory (env ACC_RUNS_DIR, default ./{DEFAULT_RUNS_DIR})",
    )


def add_runs_parser(commands: Any) -> None:
    """`acc runs list|export` under the CLI's subcommands."""
    runs = commands.add_parser("runs", help="list and export the runs kept in the runs directory")
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="a table of the kept runs, newest first")
    add_runs_dir_option(listing)
    listing.add_argument("--recipe", default=None, help="only runs of this recipe")
    listing.add_argument(
        "--status",
        default=None,
        choices=[status.value for status in RunStatus],
        help="only runs with this status",
    )
    listing.set_defaults(handler=list_command)
    export = actions.add_parser("export", help="one run's scalars as CSV or JSON")
    add_runs_dir_option(export)
    export.add_argument("run_id", metavar="ID", help="the run's id (see `acc runs list`)")
    export.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or json")
    export.add_argument("--out", default=None, metavar="FILE", help="write here (default: stdout)")
    export.set_defaults(handler=export_command)


def _open(runs_dir: str) -> RunArchive:
    from acc.archive.store import ArchiveError, RunArchive

    if not Path(runs_dir).exists():
        raise ArchiveError(
            f"no runs directory at {runs_dir}; runs are recorded there by `acc serve`"
        )
    archive = RunArchive(runs_dir)
    archive.check()
    return archive


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def list_command(args: argparse.Namespace) -> int:
    from acc.archive.store import ArchiveError

    try:
        archive = _open(args.runs_dir)
        with archive:
            found = archive.list_runs(recipe=args.recipe, status=args.status)
    except ArchiveError as error:
        print(f"acc runs list: {error}", file=sys.stderr)
        return 2
    rows = [
        [
            "ID",
            "KIND",
            "RECIPE",
            "CONDITION",
            "START",
            "DURATION",
            "STEPS",
            "FINAL LOSS",
            "BEST LOSS",
            "STATUS",
        ]
    ]
    for run in found.runs:
        rows.append(
            [
                run.id,
                run.kind,
                run.recipe,
                run.condition or "-",
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at)),
                _duration(run.duration),
                str(run.steps),
                _cell(run.final_loss),
                _cell(run.best_loss),
                run.status,
            ]
        )
    print(format_table(rows))
    print(f"{found.total} run(s), {found.archive_bytes / 2**20:.1f} MiB in {archive.root}")
    return 0


def export_text(archive: RunArchive, run_id: str, fmt: str) -> str:
    """A run's scalars: CSV (`step,wall,<key>...`) or JSON (the run's meta and its history)."""
    run = archive.get_run(run_id)
    found = archive.history(run_id)
    history = found.history
    keys = list(history.columns)
    if fmt == "json":
        return json.dumps(
            {
                "run": run.to_dict(),
                "steps": history.steps.tolist(),
                "wall": found.wall.tolist(),
                "columns": {
                    key: [None if math.isnan(v) else v for v in column.tolist()]
                    for key, column in history.columns.items()
                },
            },
            indent=1,
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "wall", *keys])
    for row, step in enumerate(history.steps.tolist()):
        values = [history.columns[key][row] for key in keys]
        writer.writerow(
            [
                step,
                f"{found.wall[row]:.3f}",
                *("" if math.isnan(v) else repr(float(v)) for v in values),
            ]
        )
    return out.getvalue()


def export_command(args: argparse.Namespace) -> int:
    from acc.archive.store import ArchivedRunNotFound, ArchiveError

    try:
        archive = _open(args.runs_dir)
        with archive:
            text = export_text(archive, args.run_id, args.format)
    except (ArchiveError, ArchivedRunNotFound) as error:
        print(f"acc runs export: {error}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text)
    except OSError as error:
        print(f"acc runs export: cannot write {args.out}: {error}", file=sys.stderr)
        return 2
    return 0
