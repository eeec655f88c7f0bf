"""`toXML`: a value as the XML document Nix 2.8 writes, byte for byte.

    <?xml version='1.0' encoding='utf-8'?>
    <expr>
      <attrs>
        <attr name="a">
          <int value="1" />
        </attr>
      </attrs>
    </expr>

Scalars are empty elements with a `value` attribute (floats printed like C++ streams);
sets list their attributes sorted by name; a derivation (`type = "derivation"`) is a
`<derivation drvPath=… outPath=…>` element whose attributes are shown the first time
its `drvPath` is met and `<repeated />` afterwards; a function shows its parameter
pattern; builtins are `<unevaluated />`. Attribute values escape `<`, `>`, `&`, `"` and
newline only (as Nix's XML writer does). The result has the context of every string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..printer import format_float
from ..values import (
    ContextString,
    Lambda,
    PathValue,
    PrimOp,
    PrimOpApp,
    Thunk,
    make_string,
    sorted_names,
)
from .registry import builtin

_XML_ESCAPES = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;",
                              "\n": "&#xA;"})


def _attr(value: str) -> str:
    return value.translate(_XML_ESCAPES)


def _attributes(attrs: list[tuple[str, str]]) -> str:
    """XML attributes in name order (Nix keeps them in a sorted map)."""
    return "".join(f' {name}="{_attr(value)}"' for name, value in sorted(attrs))


def _empty(indent: int, tag: str, attrs: list[tuple[str, str]] | None = None) -> str:
    return f"{'  ' * indent}<{tag}{_attributes(attrs or [])} />\n"


@lru_cache(maxsize=1024)
def _parameter_of(source_text: str, start: int, end: int) -> str | None:
    """The parameter name of the function literal at source_text[start:end] (`x` in
    `x: …`, `args` in `{ … }@args`). The value model does not record it, so the literal
    is parsed again."""
    from ndx.lang import ast as A
    from ndx.lang import parse

    try:
        node = parse(source_text[start:end])
    except Exception:  # noqa: BLE001 - a span that is not a whole literal: no name
        return None
    return node.param if isinstance(node, A.Lambda) else None


def _lambda_parameter(function: Lambda) -> str | None:
    span = function.span
    if span is None:
        return None
    return _parameter_of(span.source.text, span.start, span.end)


class _XmlWriter:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.context: set[str] = set()
        self.drvs_seen: set[str] = set()

    def value(self, value: Any, indent: int) -> None:
        if type(value) is Thunk:
            value = value.force()
        t = type(value)
        out = self.out
        if t is int:
            out.append(_empty(indent, "int", [("value", str(value))]))
        elif value is True or value is False:
            out.append(_empty(indent, "bool", [("value", "true" if value else "false")]))
        elif t is str:
            out.append(_empty(indent, "string", [("value", value)]))
        elif t is ContextString:
            self.context |= value.context
            out.append(_empty(indent, "string", [("value", value.text)]))
        elif t is PathValue:
            out.append(_empty(indent, "path", [("value", value.path)]))
        elif value is None:
            out.append(_empty(indent, "null"))
        elif t is float:
            out.append(_empty(indent, "float", [("value", format_float(value))]))
        elif t is list:
            out.append(f"{'  ' * indent}<list>\n")
            for item in value:
                self.value(item, indent + 1)
            out.append(f"{'  ' * indent}</list>\n")
        elif t is dict:
            self.attrs(value, indent)
        elif t is Lambda:
            self.function(value, indent)
        elif t is PrimOp or t is PrimOpApp:
            out.append(_empty(indent, "unevaluated"))
        else:
            raise AssertionError(f"not an ndx value: {value!r}")

    def attrs(self, attrs: dict[str, Any], indent: int) -> None:
        pad = "  " * indent
        if not self._is_derivation(attrs):
            self.out.append(f"{pad}<attrs>\n")
            self.members(attrs, indent + 1)
            self.out.append(f"{pad}</attrs>\n")
            return
        xml_attrs: list[tuple[str, str]] = []
        drv_path = ""
        for name in ("drvPath", "outPath"):
            item = attrs.get(name)
            if item is None:
                continue
            item = item.force() if type(item) is Thunk else item
            if type(item) is str or type(item) is ContextString:  # a string, else no attribute
                text = item.text if type(item) is ContextString else str(item)
                xml_attrs.append((name, text))
                if name == "drvPath":
                    drv_path = text
        self.out.append(f"{pad}<derivation{_attributes(xml_attrs)}>\n")
        if drv_path and drv_path not in self.drvs_seen:
            self.drvs_seen.add(drv_path)
            self.members(attrs, indent + 1)
        else:
            self.out.append(_empty(indent + 1, "repeated"))
        self.out.append(f"{pad}</derivation>\n")

    @staticmethod
    def _is_derivation(attrs: dict[str, Any]) -> bool:
        kind = attrs.get("type")
        if kind is None:
            return False
        kind = kind.force() if type(kind) is Thunk else kind
        text = kind if type(kind) is str else kind.text if type(kind) is ContextString \
            else None
        return text == "derivation"

    def members(self, attrs: dict[str, Any], indent: int) -> None:
        pad = "  " * indent
        for name in sorted_names(attrs):
            self.out.append(f'{pad}<attr name="{_attr(name)}">\n')
            self.value(attrs[name], indent + 1)
            self.out.append(f"{pad}</attr>\n")

    def function(self, function: Lambda, indent: int) -> None:
        pad = "  " * indent
        self.out.append(f"{pad}<function>\n")
        parameter = _lambda_parameter(function)
        if function.formals is not None:
            attrs = []
            if parameter:
                attrs.append(("name", parameter))
            if function.ellipsis:
                attrs.append(("ellipsis", "1"))
            self.out.append(f"{pad}  <attrspat{_attributes(attrs)}>\n")
            for name in sorted(n for n, _ in function.formals):
                self.out.append(_empty(indent + 2, "attr", [("name", name)]))
            self.out.append(f"{pad}  </attrspat>\n")
        else:
            self.out.append(_empty(indent + 1, "varpat", [("name", parameter or "")]))
        self.out.append(f"{pad}</function>\n")


def to_xml_text(value: Any) -> tuple[str, frozenset[str]]:
    """`value`, forced deeply as it is written, as Nix's XML, with its strings' context."""
    writer = _XmlWriter()
    writer.out.append("<?xml version='1.0' encoding='utf-8'?>\n<expr>\n")
    writer.value(value, 1)
    writer.out.append("</expr>\n")
    return "".join(writer.out), frozenset(writer.context)


@builtin("toXML", 1)
def to_xml(value: Any) -> Any:
    """Return a value as an XML document (the format `nix-instantiate --xml` prints)."""
    text, context = to_xml_text(value)
    return make_string(text, context)
