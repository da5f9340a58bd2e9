"""Which load generator drives a run: wrk when it is installed, else the built-in one."""

from __future__ import annotations

import shutil

from bench.load import LoadError, LoadGenerator
from bench.loadgen import BuiltinGenerator
from bench.wrk import Wrk


def pick_generator(choice: str) -> LoadGenerator:
    """`auto` prefers wrk (a C client does not steal as much CPU from the server as Python)."""
    executable = shutil.which("wrk")
    if choice == "builtin" or (choice == "auto" and executable is None):
        return BuiltinGenerator()
    if executable is None:
        raise LoadError("wrk is not on PATH (Debian: apt-get install wrk)")
    return Wrk(executable)
