"""Benchmarks of dynamorm_async, run with ``python -m nox -s bench`` (never timed in tests)."""
