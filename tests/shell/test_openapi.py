"""The documents' white space is the server's: the documents spell it out (a JSON Schema `\\s`
is ECMAScript's, which differs from Python's in a few code points), and what they spell is
exactly what the server strips, code point for code point."""

from __future__ import annotations

import re
import sys

from mockserver.shell.openapi import FILLED, padded

# As a validator reads a schema's pattern: found anywhere in the text, anchors as written.
BLANK = re.compile(padded("ab")["pattern"]).search
NAMED = re.compile(FILLED["pattern"]).search


def test_white_space_is_what_the_server_strips_for_every_code_point() -> None:
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        stripped = not char.strip()
        assert (BLANK(char) is not None) is stripped, hex(point)
        assert (NAMED(char) is None) is stripped, hex(point)
        assert (BLANK(f"{char}ab{char}") is not None) is stripped, hex(point)  # padding about a text
