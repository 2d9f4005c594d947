"""SSH for fw.

``fw.conch.__version__`` is the version of the fw-conch distribution.
"""

from fw.conch._version import __version__

__all__ = ["__version__"]
