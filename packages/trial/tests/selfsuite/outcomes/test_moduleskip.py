"""A module whose tests are all skipped by its ``skip`` attribute: 2 skips."""

from fw.trial import unittest

skip = "the whole module is skipped"


class Anything(unittest.TestCase):
    def test_one(self):
        raise AssertionError("not reached")

    def test_two(self):
        raise AssertionError("not reached")
