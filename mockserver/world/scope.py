"""A scope: some invoices in one order (a customer's, a contract's or all of them, by an
ordering key), with what a window of billing periods can hold; and the plain arrays of
ordinals the world groups its invoices in.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate, groupby

from mockserver.world.columns import InvoiceColumns


def index_code(size: int) -> str:
    """The array type code of ordinals and positions in a world of `size` invoices."""
    return "i" if size < 2**31 else "q"


class Scope:
    """Some invoices in one order, and which of them a period window can hold.

    Running maxima (from the front) and minima (from the back) of the period bounds are
    non-decreasing, so bisections find, for any window, the positions that cannot hold a match
    and the run of positions that surely lies inside the window. That holds in any order; in
    date order, where periods follow nearly the same order, the spans are tight. Computed on
    the first windowed query of the scope.
    """

    __slots__ = ("_cols", "_envelope", "members")

    def __init__(self, members: Sequence[int], cols: InvoiceColumns) -> None:
        self.members = members
        self._cols = cols
        self._envelope: tuple[array, array, array, array] | None = None

    def renewed(self) -> Scope:
        """The same members and bounds under a new identity: what is cached of its invoices
        as they were (their rendered pages) is not found again."""
        twin = Scope(self.members, self._cols)
        twin._envelope = self._envelope
        return twin

    def span(self, low: int | None, high: int | None) -> tuple[int, int, int, int]:
        """(begin, sure_begin, sure_stop, stop) for a window of periods that start at or after
        `low` and end at or before `high`: no member outside [begin, stop) lies in the window,
        and every member inside [sure_begin, sure_stop) does."""
        size = len(self.members)
        if low is None and high is None:
            return 0, 0, size, size
        latest_start, earliest_later_start, latest_end, earliest_later_end = self._envelope or self._build()
        begin, sure_begin, sure_stop, stop = 0, 0, size, size
        if low is not None:
            begin = bisect_left(latest_start, low)  # before it, every period starts before `low`
            sure_begin = bisect_left(earliest_later_start, low)  # from it, none does
        if high is not None:
            sure_stop = bisect_right(latest_end, high)  # before it, every period ends by `high`
            stop = bisect_right(earliest_later_end, high)  # from it, none does
        return begin, sure_begin, sure_stop, stop

    def _build(self) -> tuple[array, array, array, array]:
        starts = array("q", map(self._cols.period_start.__getitem__, self.members))
        ends = array("q", map(self._cols.period_end.__getitem__, self.members))
        self._envelope = (
            array("q", accumulate(starts, max)),
            _suffix_minima(starts),
            array("q", accumulate(ends, max)),
            _suffix_minima(ends),
        )
        return self._envelope


def _suffix_minima(values: array) -> array:
    """minima[k] = min(values[k:])."""
    minima = array("q", accumulate(reversed(values), min))
    minima.reverse()
    return minima


def groups_by(column: array, count: int, code: str) -> list[array]:
    """Ordinals by their value in `column`: one ascending array per value in range(count).

    Negative values (no contract) belong to no group. Invoices come customer by customer, so
    the runs are long and few.
    """
    groups = [array(code) for _ in range(count)]
    for value, run in groupby(range(len(column)), key=column.__getitem__):
        if value >= 0:
            groups[value].extend(run)
    return groups
