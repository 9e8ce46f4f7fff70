"""Reading JSON that users give (checkpoint headers, explorer states, paths, calibrations):
how deeply a text nests, found without parsing it, so that deep nesting is refused in one line
before json.loads could hit Python's recursion limit; and parsing that takes what editors write
(a UTF-8 byte-order mark) and words Python's own limits for a person."""

from __future__ import annotations

import json
from typing import Any


def json_depth(text: str | bytes) -> int:
    """The deepest bracket nesting in a JSON text (strings skipped), without parsing it."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_user_json(text: str) -> Any:
    """json.loads for a file a person may have edited: a leading byte-order mark (Windows
    editors write one) is skipped; a number of more digits than Python converts is a ValueError
    that says so, not advice to call sys.set_int_max_str_digits."""
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except ValueError as exc:
        if "Exceeds the limit" in str(exc):
            raise ValueError("it holds a whole number of more than 4300 digits") from None
        raise
