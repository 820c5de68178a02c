"""``python -m dynamorm_async``: the ``dynamorm`` command line (demo, migrate, schema, generate)."""

from dynamorm_async.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
