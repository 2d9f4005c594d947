"""The version of the fw-trial distribution."""

__version__ = "0.1.0.dev0"
