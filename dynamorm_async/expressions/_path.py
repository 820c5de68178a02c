"""Parsing of attribute path text: ``"address.city"``, ``"tags[0]"``."""

from __future__ import annotations

import functools
import re

from dynamorm_async.errors import ValidationError

__all__ = ["parse_path"]

_NAME = r"[^.\[\]]+"
# name, then any list indexes, then more ".name[index]..." parts; nothing else.
_PATH = re.compile(rf"{_NAME}(?:\[\d+\])*(?:\.{_NAME}(?:\[\d+\])*)*")
_TOKEN = re.compile(rf"({_NAME})|\[(\d+)\]")


def parse_path(text: object) -> tuple[str | int, ...]:
    """Split ``"a.b[2].c"`` into ``("a", "b", 2, "c")``.

    Raises `ValidationError` for anything else: empty names, a missing or extra dot,
    negative or non-numeric indexes.
    """
    if isinstance(text, str):
        return _parse(text)  # remembered: programs name the same few paths again and again
    return _parse_uncached(text)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[str | int, ...]:
    return _parse_uncached(text)


def _parse_uncached(text: object) -> tuple[str | int, ...]:
    if isinstance(text, str) and text.startswith("["):
        raise ValidationError(f"invalid attribute path {text!r}: it must start with a name")
    if not isinstance(text, str) or _PATH.fullmatch(text) is None:
        raise ValidationError(
            f"invalid attribute path {text!r}: write names joined by dots, with list "
            "indexes in brackets, e.g. 'address.city' or 'tags[0]'"
        )
    return tuple(name if name else int(index) for name, index in _TOKEN.findall(text))
