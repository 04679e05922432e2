"""Tests of the pure-Python sharedctypes package (``python3 -m unittest discover``)."""
