"""Mail for fw: SMTP, POP3 and IMAP4.

``fw.mail.__version__`` is the version of the fw-mail distribution.
"""

from fw.mail._version import __version__

__all__ = ["__version__"]
