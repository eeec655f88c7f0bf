"""List builtins: `head tail length elemAt elem map filter foldl' genList sort
concatLists concatMap partition groupBy all any`.

Each forces what Nix 2.8 forces and nothing more: `length` and `tail` never touch the
elements, `map` and `genList` build elements as thunks (the function itself is not even
forced until an element is), `elem` stops at the first equal element. Loops are plain
Python loops, so a fold over a million elements needs no recursion.
"""

from __future__ import annotations

from typing import Any

from ..coerce import expect_bool, expect_function, expect_int, expect_list, expect_string_no_context
from ..equality import values_equal
from ..errors import EvalError
from ..operators import less_than
from ..runtime import apply
from ..stable_sort import stable_sort
from ..values import Lambda, PrimOp, Thunk, has_escape, text_bytes
from .arith import less_than_
from .registry import builtin


def _apply_pair(pair: tuple[Any, Any]) -> Any:
    return apply(pair[0], pair[1])


def _apply_two(triple: tuple[Any, Any, Any]) -> Any:
    return apply(apply(triple[0], triple[1]), triple[2])


def _lazy_calls(f: Any, args: Any) -> list[Thunk]:
    """Thunks for `f arg`, one per argument. A function written in ndx with a plain
    parameter is called as the evaluator does (`body([env, arg])`) with no `apply` in
    between; any other `f`, a Thunk included, is left to `apply` (and stays unforced)."""
    if type(f) is Lambda:
        body = f.body
        if body is not None:
            env = f.env
            return [Thunk(body, [env, arg]) for arg in args]
    return [Thunk(_apply_pair, (f, arg)) for arg in args]


def lazy_call(function: Any, arg: Any) -> Thunk:
    """A thunk for `function arg`."""
    return Thunk(_apply_pair, (function, arg))


def lazy_call2(function: Any, arg1: Any, arg2: Any) -> Thunk:
    """A thunk for `function arg1 arg2`."""
    return Thunk(_apply_two, (function, arg1, arg2))


def _bool_result(value: Any, name: str) -> bool:
    if value is True or value is False:
        return bool(value)
    return expect_bool(value, f"the return value of the function passed to '{name}'")


@builtin("head", 1)
def head(xs: Any) -> Any:
    """Return the first element of a list; an error if it is empty."""
    items = expect_list(xs, "the argument of 'head'")
    if not items:
        raise EvalError("list index 0 is out of bounds")
    return items[0]


@builtin("tail", 1)
def tail(xs: Any) -> list[Any]:
    """Return the list without its first element; an error if it is empty."""
    items = expect_list(xs, "the argument of 'tail'")
    if not items:
        raise EvalError("'tail' called on an empty list")
    return items[1:]


@builtin("length", 1)
def length(xs: Any) -> int:
    """Return the number of elements of a list (without evaluating them)."""
    if type(xs) is list:
        return len(xs)
    return len(expect_list(xs, "the argument of 'length'"))


@builtin("elemAt", 2)
def elem_at(xs: Any, n: Any) -> Any:
    """Return element `n` of a list, counting from 0."""
    items = xs if type(xs) is list else expect_list(xs, "the first argument of 'elemAt'")
    index = n if type(n) is int else expect_int(n, "the second argument of 'elemAt'")
    if index < 0 or index >= len(items):
        raise EvalError(f"list index {index} is out of bounds")
    return items[index]


@builtin("elem", 2)
def elem(x: Any, xs: Any) -> bool:
    """Return whether `x` is equal to an element of the list `xs`."""
    for item in expect_list(xs, "the second argument of 'elem'"):
        if values_equal(x, item):
            return True
    return False


@builtin("map", 2, global_=True)
def map_(f: Any, xs: Any) -> list[Any]:
    """Apply `f` to each element of a list, lazily: `map (x: x * 2) [ 1 2 ]` is
    `[ 2 4 ]`."""
    items = xs if type(xs) is list else expect_list(xs, "the second argument of 'map'")
    return _lazy_calls(f, items)


@builtin("filter", 2)
def filter_(f: Any, xs: Any) -> list[Any]:
    """Return the elements of a list for which the predicate `f` returns true."""
    function = expect_function(f, "the first argument of 'filter'")
    items = expect_list(xs, "the second argument of 'filter'")
    out = []
    body = function.body if type(function) is Lambda else None
    env = function.env if body is not None else None
    for item in items:
        if body is not None:
            keep = body([env, item])
            if type(keep) is Thunk:
                keep = keep.force()
        else:
            keep = apply(function, item)
        if keep is True or (keep is not False and _bool_result(keep, "filter")):
            out.append(item)
    return out if len(out) != len(items) else items


@builtin("foldl'", 3)
def foldl_strict(f: Any, initial: Any, xs: Any) -> Any:
    """Reduce a list from the left with `f acc x`, forcing the accumulator at each
    step: `foldl' (a: b: a + b) 0 [ 1 2 3 ]` is 6."""
    function = expect_function(f, "the first argument of 'foldl''")
    items = expect_list(xs, "the third argument of 'foldl''")
    if not items:
        return initial.force() if type(initial) is Thunk else initial
    acc = initial
    if type(function) is not Lambda or function.body is None:
        for item in items:
            acc = apply(apply(function, acc), item)
        return acc
    body, env = function.body, function.env
    for item in items:
        # `apply(apply(function, acc), item)`, with a function of plain parameters
        # called as the evaluator calls it.
        step = body([env, acc])
        if type(step) is Thunk:
            step = step.force()
        if type(step) is Lambda and step.body is not None:
            acc = step.body([step.env, item])
            if type(acc) is Thunk:
                acc = acc.force()
        else:
            acc = apply(step, item)
    return acc


@builtin("genList", 2)
def gen_list(f: Any, n: Any) -> list[Any]:
    """Return the list `[ (f 0) (f 1) … (f (n - 1)) ]`, its elements computed lazily."""
    size = expect_int(n, "the second argument of 'genList'")
    if size < 0:
        raise EvalError(f"cannot create list of size {size}")
    return _lazy_calls(f, range(size))


def _is_less_than(function: Any) -> bool:
    return type(function) is PrimOp and function.fn is less_than_


@builtin("sort", 2)
def sort(comparator: Any, xs: Any) -> list[Any]:
    """Sort a list with the comparator `c a b` ("is a before b?"), stably, exactly as
    Nix does (even for comparators that are not strict orders)."""
    function = expect_function(comparator, "the first argument of 'sort'")
    items = expect_list(xs, "the second argument of 'sort'")
    values = [item.force() if type(item) is Thunk else item for item in items]
    if len(values) < 2:
        return values
    if _is_less_than(function):
        kinds = {type(v) for v in values}
        if kinds == {int}:
            return sorted(values)  # a strict weak order: every stable sort agrees
        if kinds == {str}:
            # Byte order (surrogate escapes, bytes that are not UTF-8, sort as bytes).
            if not "".join(values).isascii() and any(has_escape(v) for v in values):
                return sorted(values, key=text_bytes)
            return sorted(values)
        return stable_sort(values, less_than)

    def less(a: Any, b: Any) -> bool:
        result = apply(apply(function, a), b)
        if result is True or result is False:
            return bool(result)
        return _bool_result(result, "sort")

    return stable_sort(values, less)


@builtin("concatLists", 1)
def concat_lists(xss: Any) -> list[Any]:
    """Concatenate a list of lists."""
    out: list[Any] = []
    for item in expect_list(xss, "the argument of 'concatLists'"):
        out.extend(expect_list(item, "an element of the list passed to 'concatLists'"))
    return out


@builtin("concatMap", 2)
def concat_map(f: Any, xs: Any) -> list[Any]:
    """Apply `f` (which returns a list) to each element and concatenate the results."""
    function = expect_function(f, "the first argument of 'concatMap'")
    out: list[Any] = []
    body = function.body if type(function) is Lambda else None
    env = function.env if body is not None else None
    for item in expect_list(xs, "the second argument of 'concatMap'"):
        if body is not None:
            result = body([env, item])
            if type(result) is Thunk:
                result = result.force()
        else:
            result = apply(function, item)
        if type(result) is not list:
            result = expect_list(result, "the return value of the function passed to "
                                         "'concatMap'")
        out.extend(result)
    return out


@builtin("partition", 2)
def partition(f: Any, xs: Any) -> dict[str, Any]:
    """Split a list by a predicate into `{ right = [ … ]; wrong = [ … ]; }` (each element
    is evaluated)."""
    function = expect_function(f, "the first argument of 'partition'")
    right: list[Any] = []
    wrong: list[Any] = []
    for item in expect_list(xs, "the second argument of 'partition'"):
        if type(item) is Thunk:
            item.force()  # Nix's partition evaluates each element first
        verdict = apply(function, item)
        if verdict is True or (verdict is not False and _bool_result(verdict, "partition")):
            right.append(item)
        else:
            wrong.append(item)
    return {"right": right, "wrong": wrong}


@builtin("groupBy", 2)
def group_by(f: Any, xs: Any) -> dict[str, list[Any]]:
    """Group list elements by the string `f` returns for them:
    `groupBy (x: if x > 2 then "big" else "small") [ 1 3 ]`."""
    function = expect_function(f, "the first argument of 'groupBy'")
    groups: dict[str, list[Any]] = {}
    for item in expect_list(xs, "the second argument of 'groupBy'"):
        key = expect_string_no_context(apply(function, item),
                                       "the return value of the function passed to "
                                       "'groupBy'")
        bucket = groups.get(key)
        if bucket is None:
            groups[key] = [item]
        else:
            bucket.append(item)
    return groups


@builtin("all", 2)
def all_(f: Any, xs: Any) -> bool:
    """Return whether the predicate `f` holds for every element of a list."""
    function = expect_function(f, "the first argument of 'all'")
    for item in expect_list(xs, "the second argument of 'all'"):
        verdict = apply(function, item)
        if verdict is False or (verdict is not True and not _bool_result(verdict, "all")):
            return False
    return True


@builtin("any", 2)
def any_(f: Any, xs: Any) -> bool:
    """Return whether the predicate `f` holds for some element of a list."""
    function = expect_function(f, "the first argument of 'any'")
    for item in expect_list(xs, "the second argument of 'any'"):
        verdict = apply(function, item)
        if verdict is True or (verdict is not False and _bool_result(verdict, "any")):
            return True
    return False
