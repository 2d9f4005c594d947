"""Deprecating functions, classes, properties, parameters and module attributes.

fw's deprecation policy: a deprecated API keeps working for at least one
release and issues a :class:`DeprecationWarning` that names the release that
deprecated it and what to use instead, attributed to the caller's line::

    from fw.python.deprecate import Version, deprecated

    @deprecated(Version("fw-core", 1, 4, 0), replacement=newFunction)
    def oldFunction() -> None:
        ...

``version`` may also be a plain string such as ``"fw-core 1.4.0"``.
"""

from fw.python._deprecate import (
    DEPRECATION_WARNING_FORMAT,
    DeprecatedProperty,
    Replacement,
    VersionLike,
    WarningMethod,
    deprecated,
    deprecatedKeywordParameter,
    deprecatedModuleAttribute,
    deprecatedProperty,
    getDeprecationWarningString,
    getWarningMethod,
    setWarningMethod,
    warnAboutFunction,
)
from fw.python._deprecate_version import IncomparableVersions, Version, getVersionString

__all__ = [
    "DEPRECATION_WARNING_FORMAT",
    "DeprecatedProperty",
    "IncomparableVersions",
    "Replacement",
    "Version",
    "VersionLike",
    "WarningMethod",
    "deprecated",
    "deprecatedKeywordParameter",
    "deprecatedModuleAttribute",
    "deprecatedProperty",
    "getDeprecationWarningString",
    "getVersionString",
    "getWarningMethod",
    "setWarningMethod",
    "warnAboutFunction",
]
