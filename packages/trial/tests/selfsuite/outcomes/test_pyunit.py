# ruff: noqa: PT009 - trial's unittest-style assertions are the subject here
"""Plain unittest test cases: 1 success, 1 failure, 1 skip, 1 expected failure."""

import unittest


class PlainTests(unittest.TestCase):
    def test_passes(self):
        self.assertTrue(True)

    def test_fails(self):
        self.assertEqual(1, 2)

    @unittest.skip("skipped by decorator")
    def test_skipped(self):
        raise AssertionError("not reached")

    @unittest.expectedFailure
    def test_expectedFailure(self):
        self.assertEqual(1, 2)
