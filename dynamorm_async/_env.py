"""Settings read from the environment, shared by every layer."""

from __future__ import annotations

import os

__all__ = ["fast_path_default"]


def fast_path_default() -> bool:
    """Whether the fast path is on when not said: yes, unless ``DYNAMORM_FAST_PATH``
    is ``0``, ``false``, ``no`` or ``off``.

    It covers the transport's fast path (``Transport(fast_path=...)`` can still say
    otherwise per transport) and, for the whole process, the compiled item codecs.
    """
    value = os.environ.get("DYNAMORM_FAST_PATH", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}
