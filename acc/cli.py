"""The `acc` command line: `acc serve` (the trainer API) and the tools built on the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"port must be an integer in 1..65535, got {value!r}"
        ) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be an integer in 1..65535, got {value!r}")
    return port


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from acc.api.app import create_app
    from acc.data import DataError, load_mnist
    from acc.settings import Settings

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
    settings = Settings(host=args.host, port=args.port)
    app = create_app(settings=settings, data=data)
    print(f"acc trainer API: http://{args.host}:{args.port}/health", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
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
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: the process arguments), run the command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
