# The C extension's interface (_speedups.c); see _generate.py for what builds its arguments.
from collections.abc import Callable
from typing import Any

__all__ = ["Decoder", "Encoder", "configure", "keys_settled"]

def configure(namespace: dict[str, Any], /) -> None: ...
def keys_settled(item: dict[str, Any], keys: tuple[tuple[str, int, bool], ...], /) -> bool: ...

class Decoder:
    def __init__(
        self,
        cls: type,
        fields: tuple[tuple[Any, ...], ...],
        none_object: Any,
        python: Callable[[Any], Any],
        /,
    ) -> None: ...
    def __call__(self, item: Any, /) -> Any: ...

class Encoder:
    def __init__(self, fields: tuple[tuple[Any, ...], ...], none_object: Any, /) -> None: ...
    def __call__(self, obj: Any, /) -> dict[str, Any]: ...
