"""`python -m acc …`: the same command line as `acc …`."""

from __future__ import annotations

from acc.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
