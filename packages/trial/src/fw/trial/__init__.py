"""Testing for fw: the asynchronous unittest framework and the trial runner.

``fw.trial.__version__`` is the version of the fw-trial distribution.
"""

from fw.trial._version import __version__

__all__ = ["__version__"]
