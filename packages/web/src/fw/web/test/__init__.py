"""Helpers for testing code written with fw.web (shipped, as Twisted's ``twisted.web.test``)."""
