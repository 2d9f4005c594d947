"""The failure an authority gives for a name that does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fw.names.error import AuthoritativeDomainError

__all__ = ["AuthoritativeNameError"]


class AuthoritativeNameError(AuthoritativeDomainError):
    """
    An authority's NXDOMAIN (RFC 1035 section 4.1.1, RFC 2308 section 2.1),
    carrying the sections of the response: any CNAME chain that led to the
    missing name in ``answers``, and the zone's SOA in ``authority`` so that
    resolvers can cache the negative answer.

    Args:
        name: the name that does not exist.
        answers: ``RRHeader`` values for the answer section.
        authority: ``RRHeader`` values for the authority section.
        additional: ``RRHeader`` values for the additional section.
    """

    def __init__(
        self,
        name: bytes,
        answers: Sequence[Any] = (),
        authority: Sequence[Any] = (),
        additional: Sequence[Any] = (),
    ) -> None:
        super().__init__(name)
        self.name = name
        self.answers = list(answers)
        self.authority = list(authority)
        self.additional = list(additional)
