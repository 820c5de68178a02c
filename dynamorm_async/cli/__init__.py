"""The command line (layer 7)."""

from dynamorm_async.cli._main import main

__all__ = ["main"]
