"""A small, dependency-free release version value, for naming when things were deprecated."""

from __future__ import annotations

import functools
from dataclasses import dataclass


class IncomparableVersions(TypeError):
    """Two versions of different packages were compared."""


@functools.total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class Version:
    """A release of a package: ``Version("fw-core", 1, 4, 0)`` is fw-core 1.4.0.

    Versions of the same package compare in PEP 440 order (development
    releases before release candidates before the final release before post
    releases); comparing versions of different packages raises
    :class:`IncomparableVersions`.

    Args:
        package: the distribution's name, such as ``"fw-core"``.
        major: the major version number.
        minor: the minor version number.
        micro: the micro (patch) version number.
        release_candidate: ``N`` for the ``rcN`` pre-release, if it is one.
        post: ``N`` for the ``.postN`` release, if it is one.
        dev: ``N`` for the ``.devN`` release, if it is one.
    """

    package: str
    major: int
    minor: int
    micro: int
    release_candidate: int | None = None
    post: int | None = None
    dev: int | None = None

    def public(self) -> str:
        """Return the PEP 440 version string, such as ``"1.4.0rc1"``."""
        text = f"{self.major}.{self.minor}.{self.micro}"
        if self.release_candidate is not None:
            text += f"rc{self.release_candidate}"
        if self.post is not None:
            text += f".post{self.post}"
        if self.dev is not None:
            text += f".dev{self.dev}"
        return text

    short = public
    base = public

    def _key(self) -> tuple[int, int, int, float, int, float]:
        # PEP 440: X.Y.Z.devN < X.Y.ZrcN.devM < X.Y.ZrcN < X.Y.Z < X.Y.Z.postN.devM < X.Y.Z.postN
        rc: float = self.release_candidate if self.release_candidate is not None else float("inf")
        if self.release_candidate is None and self.post is None and self.dev is not None:
            rc = -1.0
        post = self.post if self.post is not None else -1
        dev: float = self.dev if self.dev is not None else float("inf")
        return (self.major, self.minor, self.micro, rc, post, dev)

    def _check(self, other: object) -> Version | None:
        if not isinstance(other, Version):
            return None
        if other.package.lower() != self.package.lower():
            raise IncomparableVersions(f"{self.package!r} != {other.package!r}")
        return other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.package.lower() == other.package.lower() and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.package.lower(), self._key()))

    def __lt__(self, other: object) -> bool:
        checked = self._check(other)
        if checked is None:
            return NotImplemented
        return self._key() < checked._key()

    def __str__(self) -> str:
        return getVersionString(self)

    def __repr__(self) -> str:
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("release_candidate", self.release_candidate),
                ("post", self.post),
                ("dev", self.dev),
            )
            if value is not None
        )
        return f"Version({self.package!r}, {self.major!r}, {self.minor!r}, {self.micro!r}{extras})"


def getVersionString(version: Version | str) -> str:
    """Return the human-readable form of ``version``: package, a space, then the version.

    A string is taken to already be in that form (such as ``"fw-core 1.4.0"``)
    and returned unchanged.
    """
    if isinstance(version, str):
        return version
    return f"{version.package} {version.public()}"
