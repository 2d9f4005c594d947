"""The document tree of fw.web.template: tags, slots, comments, CDATA and character references.

These are plain values; :mod:`fw.web._flatten` turns a tree of them into bytes.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, Union, cast

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.web.iweb import IRenderable

__all__ = [
    "CDATA",
    "VALID_HTML_TAG_NAMES",
    "CharRef",
    "Comment",
    "Flattenable",
    "Tag",
    "slot",
    "tags",
]

#: What :func:`~fw.web.template.flatten` accepts: text, markup objects,
#: sequences and generators of flattenables, Deferreds and coroutines whose
#: results are flattenable, and :class:`~fw.web.iweb.IRenderable` providers.
Flattenable = Union[
    bytes,
    str,
    "slot",
    "CDATA",
    "Comment",
    "Tag",
    tuple[Any, ...],
    list[Any],
    Generator[Any, None, None],
    "CharRef",
    "Deferred[Any]",
    Coroutine[Any, Any, Any],
    "IRenderable",
]


class slot:
    """A named hole in a template, filled by :meth:`Tag.fillSlots` on an enclosing tag.

    Args:
        name: the slot's name.
        default: flattened in the slot's place when no enclosing tag fills it;
            with no default, an unfilled slot fails the flattening with
            :class:`~fw.web.template.UnfilledSlot`.
        filename: the template file the slot came from, if any.
        lineNumber: its line in that file.
        columnNumber: its column on that line.
    """

    __slots__ = ("children", "columnNumber", "default", "filename", "lineNumber", "name")

    def __init__(
        self,
        name: str,
        default: Flattenable | None = None,
        filename: str | None = None,
        lineNumber: int | None = None,
        columnNumber: int | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.filename = filename
        self.lineNumber = lineNumber
        self.columnNumber = columnNumber
        #: What the template had inside the slot element (never flattened).
        self.children: list[Tag] = []

    def __repr__(self) -> str:
        return f"slot({self.name!r})"


class Tag:
    """An element: a name, attributes, children, slot values and an optional renderer.

    Calling a tag adds children (positional arguments) and attributes (keyword
    arguments, a trailing ``_`` dropped so that ``class_`` gives ``class``) and
    returns the tag itself, so trees are built in one expression::

        tags.div(class_="greeting")(tags.p("Hello, ", tags.b("world")))

    The keyword ``render`` names the render method of the enclosing
    :class:`~fw.web.template.Element` that replaces this tag when flattened.
    A tag whose name is empty (``tags.transparent``, ``t:transparent``)
    flattens to its children alone.

    Attributes:
        tagName: the element's name.
        attributes: its attributes, each value a flattenable.
        children: its children, each a flattenable.
        render: the name of the render method to call, or ``None``.
        slotData: the slot values filled on this tag, or ``None``.
        filename: the template file the tag came from, if any.
        lineNumber: its line in that file.
        columnNumber: its column on that line.
    """

    __slots__ = (
        "attributes",
        "children",
        "columnNumber",
        "filename",
        "lineNumber",
        "render",
        "slotData",
        "tagName",
    )

    def __init__(
        self,
        tagName: bytes | str,
        attributes: dict[bytes | str, Flattenable] | None = None,
        children: list[Flattenable] | None = None,
        render: str | None = None,
        filename: str | None = None,
        lineNumber: int | None = None,
        columnNumber: int | None = None,
    ) -> None:
        self.tagName: bytes | str = tagName
        self.render: str | None = render
        self.attributes: dict[bytes | str, Flattenable] = {} if attributes is None else attributes
        self.children: list[Flattenable] = [] if children is None else children
        self.slotData: dict[str, Flattenable] | None = None
        self.filename = filename
        self.lineNumber = lineNumber
        self.columnNumber = columnNumber

    def fillSlots(self, **slots: Flattenable) -> Tag:
        """Give values to the slots below this tag, and return the tag."""
        if self.slotData is None:
            self.slotData = {}
        self.slotData.update(slots)
        return self

    def __call__(self, *children: Flattenable, **kw: Flattenable) -> Tag:
        """Add ``children`` and the attributes ``kw``, and return the tag.

        ``render=name`` sets :attr:`render` rather than an attribute; a
        trailing underscore is dropped from every other keyword.
        """
        self.children.extend(children)
        if "render" in kw:
            renderName: object = kw.pop("render")
            if renderName is not None and not isinstance(renderName, str):
                raise TypeError(f"render must be a method name, not {renderName!r}")
            self.render = renderName
        attributes = self.attributes
        for key, value in kw.items():
            if key[-1:] == "_":
                key = key[:-1]
            attributes[key] = value
        return self

    def clone(self, deep: bool = True) -> Tag:
        """Return a copy of this tag.

        Attribute values and slot values are always copied deeply; children
        are copied deeply when ``deep`` is true, else the copy shares them.
        """
        top = self._copy()
        if not deep:
            return top
        # Copy the subtree level by level, without recursion: trees may be deep.
        pending = [top]
        while pending:
            children = pending.pop().children
            for index, child in enumerate(children):
                kind = type(child)
                if kind is str:
                    continue
                if kind is Tag:
                    copy = cast(Tag, child)._copy()
                    children[index] = copy
                    pending.append(copy)
                elif kind is list or kind is tuple:
                    children[index] = _cloneValue(child)
        return top

    def _copy(self) -> Tag:
        """A copy with its own list of the same children."""
        copy = Tag.__new__(Tag)
        copy.tagName = self.tagName
        copy.render = self.render
        attributes = self.attributes
        copy.attributes = (
            {
                key: value if type(value) is str else _cloneValue(value)
                for key, value in attributes.items()
            }
            if attributes
            else {}
        )
        copy.children = list(self.children)
        slotData = self.slotData
        copy.slotData = (
            None
            if slotData is None
            else {key: _cloneValue(value) for key, value in slotData.items()}
        )
        copy.filename = self.filename
        copy.lineNumber = self.lineNumber
        copy.columnNumber = self.columnNumber
        return copy

    def clear(self) -> Tag:
        """Remove every child, and return the tag."""
        self.children = []
        return self

    def __repr__(self) -> str:
        parts = []
        if self.attributes:
            parts.append(f"attributes={self.attributes!r}")
        if self.children:
            parts.append(f"children={self.children!r}")
        if self.render is not None:
            parts.append(f"render={self.render!r}")
        extra = "".join(", " + part for part in parts)
        return f"Tag({self.tagName!r}{extra})"


def _cloneValue(value: Any) -> Any:
    """A deep copy of a value found in a tag, for :meth:`Tag.clone`."""
    if isinstance(value, Tag):
        return value.clone(True)
    if isinstance(value, (list, tuple)):
        return [_cloneValue(item) for item in value]
    return value


class CDATA:
    """A CDATA section; ``]]>`` inside :attr:`data` is split so that it cannot end it early.

    Args:
        data: the section's text.
    """

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"CDATA({self.data!r})"


class Comment:
    """An XML comment; ``--`` inside :attr:`data` is made harmless when flattened.

    Args:
        data: the comment's text.
    """

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Comment({self.data!r})"


class CharRef:
    """A numeric character reference, flattened as ``&#ordinal;``.

    Args:
        ordinal: the character's code point.
    """

    __slots__ = ("ordinal",)

    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal

    def __repr__(self) -> str:
        return f"CharRef({self.ordinal!r})"


#: Every element name that :data:`tags` makes: HTML5's elements (WHATWG HTML,
#: section 4), the obsolete ones still met in old pages, and the SVG and
#: MathML roots.
VALID_HTML_TAG_NAMES = frozenset(
    """
    a abbr acronym address applet area article aside audio b base basefont bdi bdo
    big blink blockquote body br button canvas caption center cite code col
    colgroup command data datalist dd del details dfn dialog dir div dl dt em
    embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4
    h5 h6 head header hgroup hr html i iframe img input ins isindex kbd keygen
    label legend li link listing main map mark marquee math menu menuitem meta
    meter nav nobr noembed noframes noscript object ol optgroup option output p
    param picture plaintext pre progress q rb rp rt rtc ruby s samp script search
    section select slot small source spacer span strike strong style sub summary
    sup svg table tbody td template textarea tfoot th thead time title tr track
    tt u ul var video wbr xmp
    """.split()  # noqa: SIM905
)


class _TagFactory:
    """Makes a new :class:`Tag` for each attribute looked up: ``tags.div``, ``tags.a``...

    ``tags.transparent`` is a nameless tag (only its children are flattened);
    a trailing underscore is dropped (``tags.del_`` is ``del``).
    """

    __slots__ = ()

    def __getattr__(self, tagName: str) -> Tag:
        if tagName == "transparent":
            return Tag("")
        name = tagName.rstrip("_")
        if name not in VALID_HTML_TAG_NAMES:
            raise AttributeError(f"unknown tag {tagName!r}")
        return Tag(name)


#: The tag builder: ``tags.p("text", class_="note")``.
tags = _TagFactory()
