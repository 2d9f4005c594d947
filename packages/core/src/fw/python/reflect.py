"""Reflection helpers: find objects by dotted name, and name objects safely.

``namedAny("os.path.join")`` imports what it must and returns the object;
``qual`` and ``fullyQualifiedName`` go the other way.  ``safe_repr`` and
``safe_str`` format any object without raising, for use in logs and error
messages where a broken ``__repr__`` must not hide the original problem.
"""

from fw.python._reflect import (
    InvalidName,
    ModuleNotFound,
    ObjectNotFound,
    accumulateBases,
    accumulateClassDict,
    accumulateClassList,
    accumulateMethods,
    addMethodNamesToDict,
    allYourBase,
    filenameToModuleName,
    fullyQualifiedName,
    namedAny,
    namedClass,
    namedModule,
    namedObject,
    prefixedMethodNames,
    prefixedMethods,
    qual,
    requireModule,
    safe_repr,
    safe_str,
)

__all__ = [
    "InvalidName",
    "ModuleNotFound",
    "ObjectNotFound",
    "accumulateBases",
    "accumulateClassDict",
    "accumulateClassList",
    "accumulateMethods",
    "addMethodNamesToDict",
    "allYourBase",
    "filenameToModuleName",
    "fullyQualifiedName",
    "namedAny",
    "namedClass",
    "namedModule",
    "namedObject",
    "prefixedMethodNames",
    "prefixedMethods",
    "qual",
    "requireModule",
    "safe_repr",
    "safe_str",
]
