"""TOML as Nix 2.8's `fromTOML` reads it: TOML 1.0 syntax with the table rules of the
toml11 library Nix embeds.

The syntax is the specification's. Where toml11 departs from it is in what may be said
twice about a table, and Nix users see those answers, so they are reproduced here:

* a table created by dotted keys (`a.b.c = 1`) may later get a `[a]` or `[a.b]` header
  (the specification forbids it), as long as no key is given twice;
* a table created by a header may be extended by a later header of one of its parents
  (`[a.b]` then `[a]`), unless the later header would define a key again;
* a table created implicitly by an array-of-tables header (`[[a.b]]`) may not get a
  `[a]` header afterwards (the specification allows it);
* an inline table never gains keys; an array of tables written inline (`a = [{…}]`)
  cannot be appended to with `[[a]]`, but `[a.c]` adds to its last element.

toml11 decides these by looking at where each table was defined: an inline table, a
`[header]` (with its key path), a `[[header]]`, or a dotted key. `_Table.origin`
records the same.

Values: integers outside 64 bits are clamped to the nearest 64-bit bound; a float too
large for a double is ±1.7976931348623157e308 (not infinity); `\\u0000` ends a string
(Nix strings are C strings); a date or time anywhere is an error, since Nix has no type
for them. `parse_toml(text)` returns plain dicts and lists.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any

_INT_MAX = (1 << 63) - 1
_INT_MIN = -(1 << 63)


class TomlError(ValueError):
    """A document Nix 2.8 rejects; the message says where and why."""


class TomlDateError(TomlError):
    """The document is valid but holds a date or time (Nix cannot represent them)."""


class _Table(dict):  # type: ignore[type-arg]
    """A table being built, with where it was defined (toml11's region):
    ("inline",), ("header", keys), ("array",) for `[[…]]`, or ("dotted",)."""

    __slots__ = ("origin",)

    def __init__(self, origin: tuple[Any, ...]) -> None:
        super().__init__()
        self.origin = origin


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_WS = re.compile(r"[ \t]*")
_DEC_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)")
_FLOAT = re.compile(
    r"[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|[eE][+-]?[0-9](?:_?[0-9])*)")
_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|nan)")
_HEX = re.compile(r"0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*")
_OCT = re.compile(r"0o[0-7](?:_?[0-7])*")
_BIN = re.compile(r"0b[01](?:_?[01])*")
_DATETIME = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
    r"|[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)")
_VALUE_END = frozenset(" \t\r\n#,]}")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def _is_control(c: str) -> bool:
    return (c < " " and c != "\t") or c == "\x7f"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.saw_date = False

    # ------------------------------------------------------------ errors and spaces
    def error(self, message: str) -> TomlError:
        line = self.text.count("\n", 0, self.pos) + 1
        column = self.pos - (self.text.rfind("\n", 0, self.pos) + 1) + 1
        return TomlError(f"{message} (line {line}, column {column})")

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            end = len(self.text) if end < 0 else end
            for c in self.text[self.pos + 1:end]:
                if _is_control(c) and c != "\r":
                    raise self.error("control character in a comment")
            self.pos = end

    def newline(self) -> bool:
        """Consume one line ending (LF or CRLF); whether there was one."""
        if self.text.startswith("\n", self.pos):
            self.pos += 1
            return True
        if self.text.startswith("\r\n", self.pos):
            self.pos += 2
            return True
        return False

    def end_of_statement(self) -> None:
        self.skip_ws()
        self.skip_comment()
        if self.pos < len(self.text) and not self.newline():
            raise self.error("expected a newline after a key/value pair or a header")

    # ------------------------------------------------------------------- document
    def document(self) -> dict[str, Any]:
        root = _Table(("root",))
        section = root
        text = self.text
        while True:
            while True:
                self.skip_ws()
                self.skip_comment()
                if not self.newline():
                    break
            if self.pos >= len(text):
                break
            if text.startswith("[[", self.pos):
                keys = self.header(True)
                table = _Table(("array",))
                self.end_of_statement()
                _insert(root, keys, table, ("array",), self, array_of_tables=True)
                section = table
                continue
            if text.startswith("[", self.pos):
                keys = self.header(False)
                table = _Table(("header", keys))
                self.end_of_statement()
                self.section_body(table)
                _insert(root, keys, table, ("header", keys), self)
                section = root
                continue
            self.key_value(section)
            self.end_of_statement()
        return root

    def section_body(self, table: _Table) -> None:
        """The key/value pairs after a `[header]`, up to the next header."""
        text = self.text
        while True:
            while True:
                self.skip_ws()
                self.skip_comment()
                if not self.newline():
                    break
            if self.pos >= len(text) or text.startswith("[", self.pos):
                return
            self.key_value(table)
            self.end_of_statement()

    def header(self, array: bool) -> tuple[str, ...]:
        self.pos += 2 if array else 1
        self.skip_ws()
        keys = self.key()
        self.skip_ws()
        close = "]]" if array else "]"
        if not self.text.startswith(close, self.pos):
            raise self.error(f"expected '{close}' to close a table header")
        self.pos += len(close)
        return keys

    def key_value(self, table: _Table, where: str = "after a key") -> None:
        """`key = value` into `table`; `where` completes the message for a missing `=`."""
        keys = self.key()
        self.skip_ws()
        if self.peek() != "=":
            raise self.error(f"expected '=' {where}")
        self.pos += 1
        self.skip_ws()
        value = self.value()
        _insert(table, keys, value, ("dotted",), self)

    # ----------------------------------------------------------------------- keys
    def key(self) -> tuple[str, ...]:
        keys = [self.simple_key()]
        while True:
            save = self.pos
            self.skip_ws()
            if self.peek() != ".":
                self.pos = save
                return tuple(keys)
            self.pos += 1
            self.skip_ws()
            keys.append(self.simple_key())

    def simple_key(self) -> str:
        c = self.peek()
        if c == '"':
            if self.text.startswith('"""', self.pos):
                raise self.error("a key cannot be a multi-line string")
            return self.basic_string()
        if c == "'":
            if self.text.startswith("'''", self.pos):
                raise self.error("a key cannot be a multi-line string")
            return self.literal_string()
        m = _BARE_KEY.match(self.text, self.pos)
        if m is None:
            raise self.error("invalid key")
        self.pos = m.end()
        return m.group()

    # --------------------------------------------------------------------- values
    def value(self) -> Any:
        c = self.peek()
        if c == '"':
            if self.text.startswith('"""', self.pos):
                return self.multiline_basic_string()
            return self.basic_string()
        if c == "'":
            if self.text.startswith("'''", self.pos):
                return self.multiline_literal_string()
            return self.literal_string()
        if c == "[":
            return self.array()
        if c == "{":
            return self.inline_table()
        if self.text.startswith("true", self.pos):
            self.pos += 4
            return self.after_value(True)
        if self.text.startswith("false", self.pos):
            self.pos += 5
            return self.after_value(False)
        return self.number_or_date()

    def after_value(self, value: Any) -> Any:
        if self.pos < len(self.text) and self.text[self.pos] not in _VALUE_END:
            raise self.error("unexpected text after a value")
        return value

    def number_or_date(self) -> Any:
        text = self.text
        m = _DATETIME.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            self.saw_date = True
            return self.after_value(None)
        m = _SPECIAL_FLOAT.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            word = m.group()
            value = float(word)
            return self.after_value(value)
        for pattern, base in ((_HEX, 16), (_OCT, 8), (_BIN, 2)):
            m = pattern.match(text, self.pos)
            if m is not None:
                self.pos = m.end()
                number = int(m.group()[2:].replace("_", ""), base)
                return self.after_value(min(number, _INT_MAX))
        m = _FLOAT.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            value = float(m.group().replace("_", ""))
            if math.isinf(value):
                value = math.copysign(sys.float_info.max, value)
            return self.after_value(value)
        m = _DEC_INT.match(text, self.pos)
        if m is not None:
            self.pos = m.end()
            c = self.peek()
            if not c or c in _VALUE_END:
                number = int(m.group().replace("_", ""))
                return max(_INT_MIN, min(number, _INT_MAX))
        raise self.error("invalid value")

    def array(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value())
            self.skip_blank()
            c = self.peek()
            if c == ",":
                self.pos += 1
            elif c == "]":
                self.pos += 1
                return items
            else:
                raise self.error("expected ',' or ']' in an array")

    def skip_blank(self) -> None:
        """Whitespace, comments and newlines (allowed inside arrays)."""
        while True:
            self.skip_ws()
            self.skip_comment()
            if not self.newline():
                return

    def inline_table(self) -> _Table:
        self.pos += 1
        table = _Table(("inline",))
        self.skip_ws()
        if self.peek() == "}":
            self.pos += 1
            return table
        while True:
            self.skip_ws()
            self.key_value(table, "in an inline table")
            self.skip_ws()
            c = self.peek()
            if c == "}":
                self.pos += 1
                return table
            if c != ",":
                raise self.error("expected ',' or '}' in an inline table")
            self.pos += 1
            self.skip_ws()
            if self.peek() == "}":
                raise self.error("trailing comma in an inline table")

    # -------------------------------------------------------------------- strings
    def escape(self) -> str:
        c = self.peek(1)
        simple = _ESCAPES.get(c)
        if simple is not None:
            self.pos += 2
            return simple
        if c == "u" or c == "U":
            size = 4 if c == "u" else 8
            digits = self.text[self.pos + 2:self.pos + 2 + size]
            if len(digits) != size or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise self.error("invalid unicode escape")
            code = int(digits, 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise self.error("unicode escape is not a scalar value")
            self.pos += 2 + size
            return chr(code)
        raise self.error("invalid escape sequence")

    def basic_string(self) -> str:
        self.pos += 1
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated string")
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c == "\\":
                out.append(self.escape())
            elif _is_control(c):
                raise self.error("control character in a string")
            else:
                out.append(c)
                self.pos += 1

    def literal_string(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise self.error("unterminated string")
        body = self.text[self.pos:end]
        if any(_is_control(c) for c in body):
            raise self.error("control character in a string")
        self.pos = end + 1
        return body

    def multiline_basic_string(self) -> str:
        self.pos += 3
        self.newline()
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated multi-line string")
            if text.startswith('"""', self.pos):
                quotes = 3
                while quotes < 5 and self.peek(quotes) == '"':
                    quotes += 1
                out.append('"' * (quotes - 3))
                self.pos += quotes
                return "".join(out)
            c = text[self.pos]
            if c == "\\":
                # A line-ending backslash trims the newline and following blanks.
                after = _WS.match(text, self.pos + 1).end()  # type: ignore[union-attr]
                if text.startswith("\n", after) or text.startswith("\r\n", after):
                    self.pos = after
                    while True:
                        self.skip_ws()
                        if not self.newline():
                            break
                    continue
                out.append(self.escape())
            elif c == "\r" and self.peek(1) == "\n":
                out.append("\r\n")
                self.pos += 2
            elif c == "\n":
                out.append(c)
                self.pos += 1
            elif _is_control(c):
                raise self.error("control character in a string")
            else:
                out.append(c)
                self.pos += 1

    def multiline_literal_string(self) -> str:
        self.pos += 3
        self.newline()
        end = self.text.find("'''", self.pos)
        if end < 0:
            raise self.error("unterminated multi-line string")
        quotes = 3
        while quotes < 5 and end + quotes < len(self.text) and self.text[end + quotes] == "'":
            quotes += 1
        body = self.text[self.pos:end] + "'" * (quotes - 3)
        for c in body:
            if _is_control(c) and c not in "\n\r":
                raise self.error("control character in a string")
        self.pos = end + quotes
        return body


def _path(keys: tuple[str, ...]) -> str:
    return ".".join(keys)


def _insert(root: _Table, keys: tuple[str, ...], value: Any, key_origin: tuple[Any, ...],
            parser: _Parser, array_of_tables: bool = False) -> None:
    """toml11's `insert_nested_key`: put `value` at `keys` below `root`. Tables created
    on the way record `key_origin`, where the key was written."""
    table: dict[str, Any] = root
    for depth, key in enumerate(keys[:-1]):
        current = table.get(key)
        if current is None:
            current = _Table(key_origin)
            table[key] = current
        if type(current) is _Table:
            if current.origin[0] == "inline":
                raise parser.error(f"inserting into the inline table "
                                   f"'{_path(keys[:depth + 1])}', but inline tables are "
                                   "immutable")
            table = current
        elif type(current) is list:
            if not current or type(current[-1]) is not _Table:
                raise parser.error(f"'{_path(keys[:depth + 1])}' is neither a table nor an "
                                   "array of tables")
            table = current[-1]
        else:
            raise parser.error(f"'{_path(keys[:depth + 1])}' is neither a table nor an "
                               "array of tables")
    last = keys[-1]
    existing = table.get(last)
    name = _path(keys)
    if array_of_tables:
        if existing is None:
            table[last] = [value]
            return
        if type(existing) is _Table:
            raise parser.error(f"array of tables '{name}' cannot be defined: a table "
                               "already is")
        if type(existing) is not list or not existing or type(existing[0]) is not _Table:
            raise parser.error(f"array of tables '{name}' collides with an existing value")
        if existing[0].origin[0] != "array":
            raise parser.error(f"array of tables '{name}' collides with an array written "
                               "inline")
        existing.append(value)
        return
    if existing is None:
        table[last] = value
        return
    if type(existing) is _Table and type(value) is _Table:
        if not _may_extend(existing, value, keys):
            raise parser.error(f"table '{name}' is already defined")
        for key, item in value.items():
            if key in existing:
                raise parser.error(f"value '{name}' is already defined")
            existing[key] = item
        existing.origin = key_origin  # toml11 moves the table's region to this header
        return
    if type(value) is _Table and type(existing) is list and existing and \
            type(existing[0]) is _Table:
        raise parser.error(f"array of tables '{name}' is already defined")
    raise parser.error(f"value '{name}' is already defined")


def _may_extend(existing: _Table, incoming: _Table, keys: tuple[str, ...]) -> bool:
    """toml11's `is_valid_forward_table_definition`."""
    if incoming.origin[0] == "inline":
        return False
    kind: str = existing.origin[0]
    if kind == "header":
        return bool(existing.origin[1] != keys)
    return kind == "dotted"


def _finish(value: Any) -> Any:
    """Plain dicts and lists (the `_Table` records are no longer needed), strings cut at
    NUL, iteratively."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        t = type(item)
        if t is _Table:
            plain = dict(item)
            container[key] = plain
            stack.extend((plain, name) for name in plain)
        elif t is list:
            stack.extend((item, i) for i in range(len(item)))
        elif t is str:
            nul = item.find("\x00")
            if nul >= 0:
                container[key] = item[:nul]
    return root[0]


def parse_toml(text: str) -> dict[str, Any]:
    """The value of a TOML document as Nix 2.8 reads it; TomlError (or TomlDateError)
    when Nix rejects it."""
    text = text.removeprefix("\ufeff")
    if text and text[-1] not in "\n\r":
        text += "\n"
    parser = _Parser(text)
    document = parser.document()
    if parser.saw_date:
        raise TomlDateError("Dates and times are not supported")
    return _finish(document)  # type: ignore[no-any-return]
