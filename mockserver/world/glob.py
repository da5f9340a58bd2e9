"""Path globs matched in time linear in the path, whatever the pattern.

A glob translated to a regular expression backtracks: thirty `**` against a long path take
seconds, and fault rules and the journal's filter take globs from clients. Here a glob is a
row of steps run as a set of states, one bit each, advanced a character at a time.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"\*\*|\*|\?|\[[^\]/]*\]|\[|[^*?\[]")
# What a glob may be, as the control plane's document gives it: from `/`, every `[` opening a
# class that closes before any `/` and holds something (`[!` something, if negated).
GLOB_PATTERN = r"^/(?:[^\[]|\[(?:![^\]/]+|[^!\]/][^\]/]*)\])*$"
ANY = "**"  # any run of characters, `/` included
SEGMENT = "*"  # any run of characters within one segment


class GlobError(ValueError):
    """A pattern that is no glob; the message names what is wrong."""


def _steps(pattern: str) -> list[str | re.Pattern[str]]:
    """The pattern's steps: a star, or what one character must be (itself or a class).

    Adjacent stars fold into one (`*` then `**` is `**`): then a star's state reaches the
    step after it in one move."""
    steps: list[str | re.Pattern[str]] = []
    for token in _TOKEN.findall(pattern):
        if token in (ANY, SEGMENT):
            if steps and steps[-1] in (ANY, SEGMENT):
                steps[-1] = ANY if ANY in (token, steps[-1]) else SEGMENT
            else:
                steps.append(token)
        elif token == "?":
            steps.append(re.compile(r"[^/]"))
        elif token == "[":
            raise GlobError(f"unclosed '[' in the path glob {pattern!r}")
        elif token.startswith("["):
            steps.append(_class(token, pattern))
        else:
            steps.append(re.compile(re.escape(token)))
    return steps


def _class(token: str, pattern: str) -> re.Pattern[str]:
    """`[abc]`, `[a-z]` or `[!abc]` as a one-character pattern; every character stands for
    itself (`^`, `\\` too), and a range from high to low holds nothing."""
    negated = token[1:2] == "!"
    body = token[2:-1] if negated else token[1:-1]
    if not body:
        raise GlobError(f"empty '[]' in the path glob {pattern!r}")
    parts, index = [], 0
    while index < len(body):
        if body[index + 1 : index + 2] == "-" and index + 2 < len(body):
            low, high = body[index], body[index + 2]
            if low <= high:
                parts.append(f"{re.escape(low)}-{re.escape(high)}")
            index += 3
        else:
            parts.append(re.escape(body[index]))
            index += 1
    if not parts:  # only empty ranges
        return re.compile(r"(?s:.)" if negated else r"(?!)")
    return re.compile("[" + ("^" if negated else "") + "".join(parts) + "]")


class Glob:
    """A compiled glob: `*` is one segment's worth, `**` any run of segments, `?` one
    character but `/`, `[...]` a character class (`[!...]` negated)."""

    __slots__ = ("_final", "_moves", "_stars", "_steps", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._steps = _steps(pattern)
        self._final = 1 << len(self._steps)
        self._stars = sum(1 << i for i, step in enumerate(self._steps) if isinstance(step, str))
        self._moves = lru_cache(maxsize=256)(self._moves_on)

    def _moves_on(self, char: str) -> tuple[int, int]:
        """The states that step past `char`, and the stars that stay on it."""
        forward = stay = 0
        for index, step in enumerate(self._steps):
            if isinstance(step, str):
                if step == ANY or char != "/":
                    stay |= 1 << index
            elif step.fullmatch(char):
                forward |= 1 << index
        return forward, stay

    def _closed(self, states: int) -> int:
        """`states` plus the step after each star: a star may match nothing."""
        return states | (states & self._stars) << 1

    def match(self, path: str) -> bool:
        """Whether the whole of `path` matches."""
        states = self._closed(1)
        for char in path:
            forward, stay = self._moves(char)
            states = self._closed((states & forward) << 1 | states & stay)
            if not states:
                return False
        return bool(states & self._final)
