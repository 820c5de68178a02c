"""The package's logger; values are never logged unless the user opts in."""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("dynamorm_async")
logger.addHandler(logging.NullHandler())
