"""First come, first served at a site's chargers, with drivers who give up after a while.

Why a heap and not SimPy: a visitor's stay at the charger is known the moment they arrive (it
depends on the charger class, not on when they start), so one pass in arrival order with a heap
of "charger free at" times is an exact FIFO multi-server queue, at about a microsecond per
visitor. A SimPy process per visit would cost tens.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence


def serve_site(arrival: Sequence[float], stays: Sequence[Sequence[float]],
               patience: Sequence[float], charger_column: Sequence[int]
               ) -> tuple[list[float], list[int]]:
    """Assign a site's visitors (sorted by arrival) to its chargers.

    ``stays[j][i]`` is how long visitor i would occupy a charger of class column j;
    ``charger_column[c]`` is the class column of the site's charger c. A visitor takes the
    charger that became free first; if none is free they wait for the next one, unless that is
    more than ``patience[i]`` away: then they leave (start NaN, charger -1). Returns (start,
    charger) per visitor.
    """
    n = len(arrival)
    start = [math.nan] * n
    charger = [-1] * n
    free = [(0.0, c) for c in range(len(charger_column))]
    replace = heapq.heapreplace
    if len(stays) == 1:  # one class of charger: the common case, kept lean
        stay = stays[0]
        for i in range(n):
            a = arrival[i]
            f, c = free[0]
            if f <= a:
                s = a
            elif f - a <= patience[i]:
                s = f
            else:
                continue
            replace(free, (s + stay[i], c))
            start[i] = s
            charger[i] = c
        return start, charger
    for i in range(n):
        a = arrival[i]
        f, c = free[0]
        if f <= a:
            s = a
        elif f - a <= patience[i]:
            s = f
        else:
            continue
        replace(free, (s + stays[charger_column[c]][i], c))
        start[i] = s
        charger[i] = c
    return start, charger
