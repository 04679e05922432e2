"""Squares every point of a named sharedctypes array under its lock (run by
examples/python_points.rs, with ``python/`` on ``PYTHONPATH``)."""

import sys

import sharedctypes

points = sharedctypes.open_named(sys.argv[1])
with points.get_lock():  # the very lock the Rust side uses
    for p in points.get_obj():
        p.x **= 2
        p.y **= 2
