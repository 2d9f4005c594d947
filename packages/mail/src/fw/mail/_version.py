"""The version of the fw-mail distribution."""

__version__ = "0.1.0.dev0"
