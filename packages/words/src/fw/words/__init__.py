"""Chat for fw: IRC.

``fw.words.__version__`` is the version of the fw-words distribution.
"""

from fw.words._version import __version__

__all__ = ["__version__"]
