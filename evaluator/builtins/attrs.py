"""Attribute-set builtins: `attrNames attrValues getAttr hasAttr removeAttrs
intersectAttrs listToAttrs mapAttrs catAttrs zipAttrsWith genericClosure`.

Sets are dicts that are never mutated; builtins build new ones. Values stay unevaluated
unless Nix evaluates them (`attrNames` never does; `listToAttrs` forces each element and
its `name`, not its `value`; `mapAttrs` makes each result a thunk).
"""

from __future__ import annotations

from typing import Any

from ..coerce import expect_attrs, expect_function, expect_list, expect_string_no_context
from ..errors import EvalError, MissingAttributeError
from ..operators import less_than
from ..runtime import apply
from ..values import ContextString, PathValue, Thunk, sorted_names
from .lists import lazy_call2
from .registry import builtin


def _missing(name: str, builtin_name: str) -> MissingAttributeError:
    return MissingAttributeError(f"attribute '{name}' missing for call to '{builtin_name}'")


@builtin("attrNames", 1)
def attr_names(attrs: Any) -> list[str]:
    """Return the names of a set's attributes, sorted (values are not evaluated)."""
    return sorted_names(expect_attrs(attrs, "the argument of 'attrNames'"))


@builtin("attrValues", 1)
def attr_values(attrs: Any) -> list[Any]:
    """Return the values of a set's attributes, in the order of their sorted names."""
    table = expect_attrs(attrs, "the argument of 'attrValues'")
    return [table[name] for name in sorted_names(table)]


@builtin("getAttr", 2)
def get_attr(name: Any, attrs: Any) -> Any:
    """Return the attribute `name` of a set: `getAttr "x" s` is `s.x`."""
    key = name if type(name) is str else \
        expect_string_no_context(name, "the first argument of 'getAttr'")
    table = attrs if type(attrs) is dict else \
        expect_attrs(attrs, "the second argument of 'getAttr'")
    try:
        return table[key]
    except KeyError:
        raise _missing(key, "getAttr") from None


@builtin("hasAttr", 2)
def has_attr(name: Any, attrs: Any) -> bool:
    """Return whether a set has the attribute `name` (its value is not evaluated)."""
    key = name if type(name) is str else \
        expect_string_no_context(name, "the first argument of 'hasAttr'")
    if type(attrs) is dict:
        return key in attrs
    return key in expect_attrs(attrs, "the second argument of 'hasAttr'")


@builtin("removeAttrs", 2, global_=True)
def remove_attrs(attrs: Any, names: Any) -> dict[str, Any]:
    """Return a set without the attributes whose names are listed (absent names are
    ignored): `removeAttrs { a = 1; b = 2; } [ "a" ]` is `{ b = 2; }`."""
    table = expect_attrs(attrs, "the first argument of 'removeAttrs'")
    drop = {expect_string_no_context(n, "an element of the second argument of "
                                        "'removeAttrs'")
            for n in expect_list(names, "the second argument of 'removeAttrs'")}
    if not drop.intersection(table):
        return table
    return {k: v for k, v in table.items() if k not in drop}


@builtin("intersectAttrs", 2)
def intersect_attrs(e1: Any, e2: Any) -> dict[str, Any]:
    """Return the attributes of the second set whose names the first set also has."""
    first = expect_attrs(e1, "the first argument of 'intersectAttrs'")
    second = expect_attrs(e2, "the second argument of 'intersectAttrs'")
    if len(first) < len(second):
        return {k: second[k] for k in first if k in second}
    return {k: v for k, v in second.items() if k in first}


@builtin("listToAttrs", 1)
def list_to_attrs(xs: Any) -> dict[str, Any]:
    """Build a set from a list of `{ name = …; value = …; }` sets; the first of
    duplicate names wins."""
    out: dict[str, Any] = {}
    for item in expect_list(xs, "the argument of 'listToAttrs'"):
        entry = item.force() if type(item) is Thunk else item
        if type(entry) is not dict:
            entry = expect_attrs(entry, "an element of the list passed to 'listToAttrs'")
        name = entry.get("name")
        if name is None:
            raise _missing("name", "listToAttrs")
        if type(name) is Thunk:
            name = name.force()
        if type(name) is not str:
            name = expect_string_no_context(name, "the 'name' attribute of an element of "
                                                  "the list passed to 'listToAttrs'")
        if name in out:
            continue
        value = entry.get("value", _MISSING)
        if value is _MISSING:
            raise _missing("value", "listToAttrs")
        out[name] = value
    return out


_MISSING = object()


@builtin("mapAttrs", 2)
def map_attrs(f: Any, attrs: Any) -> dict[str, Any]:
    """Apply `f name value` to every attribute, lazily:
    `mapAttrs (n: v: v * 2) { a = 1; }` is `{ a = 2; }`."""
    table = expect_attrs(attrs, "the second argument of 'mapAttrs'")
    return {name: lazy_call2(f, name, value) for name, value in table.items()}


@builtin("catAttrs", 2)
def cat_attrs(name: Any, xs: Any) -> list[Any]:
    """Collect the attribute `name` from each set of a list that has it."""
    key = expect_string_no_context(name, "the first argument of 'catAttrs'")
    out = []
    for item in expect_list(xs, "the second argument of 'catAttrs'"):
        table = expect_attrs(item, "an element of the list passed to 'catAttrs'")
        value = table.get(key, _MISSING)
        if value is not _MISSING:
            out.append(value)
    return out


@builtin("zipAttrsWith", 2)
def zip_attrs_with(f: Any, xs: Any) -> dict[str, Any]:
    """Merge a list of sets: each name maps to `f name [ values… ]`, the values in list
    order, computed lazily."""
    function = expect_function(f, "the first argument of 'zipAttrsWith'")
    collected: dict[str, list[Any]] = {}
    for item in expect_list(xs, "the second argument of 'zipAttrsWith'"):
        table = expect_attrs(item, "an element of the list passed to 'zipAttrsWith'")
        for name, value in table.items():
            bucket = collected.get(name)
            if bucket is None:
                collected[name] = [value]
            else:
                bucket.append(value)
    return {name: lazy_call2(function, name, values) for name, values in collected.items()}


class _KeySet:
    """The keys `genericClosure` has seen, compared as Nix's `std::set` with
    `CompareValues` does: equivalent when neither is less than the other, and an error
    for keys that cannot be compared (different types, or two of a type without order).
    Numbers, strings and paths use a hash table; other keys a sorted list."""

    def __init__(self) -> None:
        self.family: str | None = None
        self.table: set[Any] = set()
        self.ordered: list[Any] = []
        self.first: Any = None

    @staticmethod
    def _family(key: Any) -> str:
        t = type(key)
        if t is int or t is float:
            return "number"
        if t is str or t is ContextString:
            return "string"
        if t is PathValue:
            return "path"
        if t is list:
            return "list"
        return "other"

    def add(self, key: Any) -> bool:
        """Insert `key`; False when an equivalent key is already present."""
        family = self._family(key)
        if self.family is None:
            self.family = family
            self.first = key
        elif family != self.family or family == "other":
            less_than(key, self.first)  # raises "cannot compare …"
        if family == "number":
            probe: Any = key
        elif family == "string":
            probe = key if type(key) is str else key.text
        elif family == "path":
            probe = key.path
        else:
            return self._add_ordered(key)
        if probe in self.table:
            return False
        self.table.add(probe)
        return True

    def _add_ordered(self, key: Any) -> bool:
        entries = self.ordered
        lo, hi = 0, len(entries)
        while lo < hi:
            mid = (lo + hi) // 2
            other = entries[mid]
            if less_than(other, key):
                lo = mid + 1
            elif less_than(key, other):
                hi = mid
            else:
                return False
        entries.insert(lo, key)
        return True


@builtin("genericClosure", 1)
def generic_closure(args: Any) -> list[Any]:
    """Compute a closure: starting from `startSet`, apply `operator` to each new item and
    keep items whose `key` was not seen yet, breadth first:
    `genericClosure { startSet = [ { key = 1; } ]; operator = item: [ … ]; }`."""
    table = expect_attrs(args, "the argument of 'genericClosure'")
    start = table.get("startSet")
    if start is None:
        raise _missing("startSet", "genericClosure")
    work = list(expect_list(start, "the 'startSet' attribute passed to 'genericClosure'"))
    operator = table.get("operator")
    if operator is None:
        raise _missing("operator", "genericClosure")
    operator = operator.force() if type(operator) is Thunk else operator
    seen = _KeySet()
    result: list[Any] = []
    position = 0
    while position < len(work):
        item = work[position]
        position += 1
        element = expect_attrs(item, "an element of the closure in 'genericClosure'")
        key = element.get("key")
        if key is None:
            raise EvalError("attribute 'key' required")
        key = key.force() if type(key) is Thunk else key
        if not seen.add(key):
            continue
        result.append(element)
        produced = expect_list(apply(operator, element),
                               "the return value of the 'operator' of 'genericClosure'")
        for new in produced:
            if type(new) is Thunk:
                new.force()
            work.append(new)
        if position > 4096 and position * 2 > len(work):
            del work[:position]
            position = 0
    return result

