"""Text helpers shared by the emulators' URL and query parsers.

>>> split_top_level("a='x,y',b=(1,2),c")
["a='x,y'", 'b=(1,2)', 'c']
"""

from __future__ import annotations

__all__ = ["split_top_level"]


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside single quotes and parentheses.

    >>> split_top_level("a='x,y',b=(1,2),c")
    ["a='x,y'", 'b=(1,2)', 'c']
    """
    if sep not in text:  # most URL paths (``accounts(<id>)``): one piece, no scan
        return [text]
    parts: list[str] = []
    buf: list[str] = []
    depth = 0
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted  # a doubled '' toggles twice: still correct
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == sep and not quoted and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts
