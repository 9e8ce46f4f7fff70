"""How deeply a JSON text nests, found without parsing it: every reader of a JSON file the user
gives (checkpoint headers, explorer states, paths, calibrations) refuses deep nesting with one
line before json.loads could hit Python's recursion limit."""

from __future__ import annotations


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
