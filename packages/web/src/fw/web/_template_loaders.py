"""Template loaders: XML text or files parsed into tag trees, and ready-made trees.

Templates are parsed with the standard library's expat, safely: entity
declarations (the "billion laughs" expansion), external entities and
external DTDs are refused or never fetched.  Only the five XML entities and
character references are expanded; with an (ignored) external DOCTYPE, as
XHTML files have, HTML's named entities such as ``&nbsp;`` are expanded too.
"""

from __future__ import annotations

import html.entities
import os
from typing import TYPE_CHECKING, Any
from xml.parsers import expat
from xml.sax import SAXParseException
from xml.sax.xmlreader import Locator

from zope.interface import implementer

from fw.web._stan import CDATA, Comment, Flattenable, Tag, slot
from fw.web.iweb import ITemplateLoader

if TYPE_CHECKING:
    from fw.python.filepath import FilePath

__all__ = ["TEMPLATE_NAMESPACE", "TagLoader", "XMLFile", "XMLString"]

#: The namespace of template directives (``t:render``, ``t:slot``...); the
#: same URI as Twisted's, so that Twisted's templates load unchanged.
TEMPLATE_NAMESPACE = "http://twistedmatrix.com/ns/twisted.web.template/0.1"


class _Locator(Locator):
    """Where the parser is, for :class:`~xml.sax.SAXParseException`."""

    def __init__(self, systemId: str | None, line: int, column: int) -> None:
        self._systemId = systemId
        self._line = line
        self._column = column

    def getColumnNumber(self) -> int:
        return self._column

    def getLineNumber(self) -> int:
        return self._line

    def getPublicId(self) -> None:
        return None

    def getSystemId(self) -> str | None:
        return self._systemId


class _Refused(Exception):
    """The template used an XML feature that templates may not use."""


class _TemplateBuilder:
    """Builds the tag tree from expat's events."""

    def __init__(self, parser: Any, filename: str | None) -> None:
        self._parser = parser
        self._filename = filename
        self.document: list[Flattenable] = []
        self._current: list[Any] = self.document
        # The open elements: each with the child list that was current before it.
        self._stack: list[tuple[Tag | slot, list[Any], bool]] = []
        self._prefixes: dict[str, str | None] = {}
        self._newNamespaces: list[tuple[str, str]] = []
        self._cdata: list[str] | None = None

    def _position(self) -> dict[str, Any]:
        parser = self._parser
        return {
            "filename": self._filename,
            "lineNumber": parser.CurrentLineNumber,
            "columnNumber": parser.CurrentColumnNumber,
        }

    # -- namespaces -------------------------------------------------------------

    def startNamespace(self, prefix: str | None, uri: str) -> None:
        self._prefixes[uri] = prefix
        if uri != TEMPLATE_NAMESPACE:
            # Other namespaces are kept in the output, declared where they were.
            self._newNamespaces.append(("xmlns" if prefix is None else f"xmlns:{prefix}", uri))

    @staticmethod
    def _split(name: str) -> tuple[str | None, str, str | None]:
        """``"uri local prefix"`` (from expat) as (uri, local name, prefix)."""
        parts = name.split(" ")
        if len(parts) == 1:
            return None, parts[0], None
        if len(parts) == 2:
            return parts[0], parts[1], None
        return parts[0], parts[1], parts[2]

    # -- elements ---------------------------------------------------------------

    def startElement(self, name: str, attributeList: list[str]) -> None:
        uri, local, prefix = self._split(name)
        attributes: dict[bytes | str, Flattenable] = {}
        render: str | None = None
        for index in range(0, len(attributeList), 2):
            attributeUri, attributeLocal, attributePrefix = self._split(attributeList[index])
            value = attributeList[index + 1]
            if attributeUri == TEMPLATE_NAMESPACE and attributeLocal == "render":
                render = value
            elif attributePrefix is not None:
                attributes[f"{attributePrefix}:{attributeLocal}"] = value
            else:
                attributes[attributeLocal] = value
        parentChildren = self._current
        if uri == TEMPLATE_NAMESPACE:
            if local == "slot":
                if "name" not in attributes:
                    raise _Refused("<t:slot> needs a name attribute")
                default = attributes.get("default")
                hole = slot(str(attributes["name"]), default=default, **self._position())
                parentChildren.append(hole)
                self._stack.append((hole, parentChildren, False))
                self._current = hole.children
                return
            if local == "attr":
                if not self._stack or not isinstance(self._stack[-1][0], Tag):
                    raise _Refused("<t:attr> must be inside an element")
                if "name" not in attributes:
                    raise _Refused("<t:attr> needs a name attribute")
                holder = Tag("", render=render, **self._position())
                self._stack[-1][0].attributes[str(attributes["name"])] = holder
                self._stack.append((holder, parentChildren, False))
                self._current = holder.children
                return
            if local != "transparent":
                raise _Refused(f"unknown template element <t:{local}>")
            tagName = ""
        elif prefix is not None:
            tagName = f"{prefix}:{local}"
        else:
            tagName = local
        if self._newNamespaces:
            attributes.update(self._newNamespaces)
            self._newNamespaces = []
        tag = Tag(tagName, attributes=attributes, render=render, **self._position())
        parentChildren.append(tag)
        self._stack.append((tag, parentChildren, True))
        self._current = tag.children

    def endElement(self, name: str) -> None:
        _, parentChildren, _ = self._stack.pop()
        self._current = parentChildren

    # -- content ----------------------------------------------------------------

    def characters(self, data: str) -> None:
        if self._cdata is not None:
            self._cdata.append(data)
            return
        current = self._current
        if current and type(current[-1]) is str:
            current[-1] += data
        else:
            current.append(data)

    def comment(self, data: str) -> None:
        self._current.append(Comment(data))

    def startCDATA(self) -> None:
        self._cdata = []

    def endCDATA(self) -> None:
        assert self._cdata is not None
        self._current.append(CDATA("".join(self._cdata)))
        self._cdata = None

    # -- what templates may not do ----------------------------------------------

    def entityDeclaration(self, entityName: str, *args: object) -> None:
        raise _Refused(f"entity declarations are not allowed in templates ({entityName!r})")

    def externalEntity(self, *args: object) -> int:
        raise _Refused("external entities are not allowed in templates")

    def skippedEntity(self, entityName: str, isParameterEntity: bool) -> None:
        if not isParameterEntity and entityName in html.entities.name2codepoint:
            self.characters(chr(html.entities.name2codepoint[entityName]))
            return
        raise _Refused(f"undefined entity &{entityName};")


def _parse(source: str | bytes, filename: str | None) -> list[Flattenable]:
    """Parse a template into a list of top-level nodes.

    Raises:
        xml.sax.SAXParseException: the template is not well-formed XML, or it
            declares entities or refers to external ones.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.namespace_prefixes = True
    parser.ordered_attributes = True
    parser.buffer_text = True
    # External parameter entities (an external DTD) are never read.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    builder = _TemplateBuilder(parser, filename)
    parser.StartNamespaceDeclHandler = builder.startNamespace
    parser.StartElementHandler = builder.startElement
    parser.EndElementHandler = builder.endElement
    parser.CharacterDataHandler = builder.characters
    parser.CommentHandler = builder.comment
    parser.StartCdataSectionHandler = builder.startCDATA
    parser.EndCdataSectionHandler = builder.endCDATA
    parser.EntityDeclHandler = builder.entityDeclaration
    parser.UnparsedEntityDeclHandler = builder.entityDeclaration
    parser.ExternalEntityRefHandler = builder.externalEntity
    parser.SkippedEntityHandler = builder.skippedEntity
    try:
        parser.Parse(source, True)
    except expat.ExpatError as e:
        raise SAXParseException(
            expat.errors.messages[e.code],
            e,
            _Locator(filename, e.lineno, e.offset),
        ) from None
    except _Refused as e:
        raise SAXParseException(
            str(e),
            e,
            _Locator(filename, parser.CurrentLineNumber, parser.CurrentColumnNumber),
        ) from None
    return builder.document


@implementer(ITemplateLoader)
class TagLoader:
    """Loads a tree that is already built.

    Args:
        tag: the tree :meth:`load` returns (in a list).
    """

    def __init__(self, tag: Flattenable) -> None:
        self.tag = tag

    def load(self) -> list[Flattenable]:
        """Return ``[tag]``."""
        return [self.tag]


@implementer(ITemplateLoader)
class XMLString:
    """Loads a template from XML text, parsed at once.

    Args:
        s: the template, as text or as bytes (UTF-8 unless its XML
            declaration names another encoding).

    Raises:
        xml.sax.SAXParseException: the template is not well-formed XML, or it
            declares or refers to entities.
    """

    def __init__(self, s: str | bytes) -> None:
        self._loadedTemplate = _parse(s, None)

    def load(self) -> list[Flattenable]:
        """Return the parsed template."""
        return self._loadedTemplate


@implementer(ITemplateLoader)
class XMLFile:
    """Loads a template from an XML file, parsed when first loaded.

    Args:
        path: the file, as a :class:`~fw.python.filepath.FilePath` or a path.
    """

    def __init__(self, path: FilePath[Any] | str | os.PathLike[str]) -> None:
        self._path = path
        self._loadedTemplate: list[Flattenable] | None = None

    def _filename(self) -> str:
        return os.fsdecode(self._path)

    def load(self) -> list[Flattenable]:
        """Return the parsed template, reading the file on the first call.

        Raises:
            OSError: the file cannot be read.
            xml.sax.SAXParseException: the template is not well-formed XML, or
                it declares or refers to entities.
        """
        if self._loadedTemplate is None:
            filename = self._filename()
            with open(filename, "rb") as f:
                data = f.read()
            self._loadedTemplate = _parse(data, filename)
        return self._loadedTemplate

    def __repr__(self) -> str:
        return f"<XMLFile of {self._filename()!r}>"
