"""``python -m dynamorm_async``: the command line (``demo`` for now)."""

from dynamorm_async.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
