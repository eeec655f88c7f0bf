"""The kernel other code builds on: printing, coercion, equality, calling, deep forcing."""

from __future__ import annotations

import pytest

from ndx.evaluator.coerce import coerce_to_string, expect_attrs, expect_int, expect_list
from ndx.evaluator.context import EvalContext
from ndx.evaluator.equality import equal_forced, values_equal
from ndx.evaluator.errors import EvalError, EvalTypeError, InfiniteRecursionError
from ndx.evaluator.operators import div, wrap_int
from ndx.evaluator.printer import format_float, print_value, quote_string
from ndx.evaluator.runtime import apply, call, force_deep, lazy_apply
from ndx.evaluator.values import ContextString, Lambda, PathValue, PrimOp, Thunk


def test_printer_matches_nix_layout() -> None:
    value = {"b": [1, "x\n", None], "a": True, "a b": {}, "if": [], "c": 1.5}
    assert print_value(value) == '{ a = true; "a b" = { }; b = [ 1 "x\\n" null ]; c = 1.5; "if" = [ ]; }'


def test_printer_escapes_dollar_brace_only() -> None:
    assert quote_string("${x} $y \"q\" \\ \t\r") == '"\\${x} $y \\"q\\" \\\\ \\t\\r"'


def test_printer_floats_like_cpp_streams() -> None:
    assert [format_float(x) for x in (1.0, 0.1, 1e20, 123456789.123, 1e-5, 100000.0)] == [
        "1", "0.1", "1e+20", "1.23457e+08", "1e-05", "100000"]


def test_printer_marks_shared_structures_repeated_and_leaves_thunks_unforced() -> None:
    shared = [1]
    assert print_value([shared, shared]) == "[ [ 1 ] «repeated» ]"
    pending = Thunk(lambda env: 1 / 0, None)
    assert print_value({"x": pending, "f": Lambda(lambda a: a, None)}) == \
        "{ f = <LAMBDA>; x = <CODE>; }"
    assert pending.code is not None


def test_printer_is_iterative_for_deep_nesting() -> None:
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert print_value(value).startswith("[ [ [")


def test_expect_helpers_report_expected_and_found() -> None:
    with pytest.raises(EvalTypeError, match=r"expected a set but found a list: \[ 1 2 \]"):
        expect_attrs([1, 2])
    with pytest.raises(EvalTypeError, match="expected an integer but found a string"):
        expect_int("x", "the first argument of 'f'")
    assert expect_list(Thunk.ready([1])) == [1]


def test_coerce_to_string_follows_nix_rules() -> None:
    assert coerce_to_string(ContextString("a", frozenset({"/s/x"})), None).context == {"/s/x"}
    assert coerce_to_string([1, [], 2, None, True, False, 1.0], None, coerce_more=True) == \
        "1 2  1  1.000000"
    assert coerce_to_string(PathValue("/a/./b/"), None, copy_to_store=False) == "/a/b"
    assert coerce_to_string({"outPath": "/o"}, None) == "/o"
    with pytest.raises(EvalTypeError, match="cannot coerce an integer to a string"):
        coerce_to_string(1, None)


def test_equality_is_deep_numeric_and_pointer_equal_for_shared_functions() -> None:
    f = Lambda(lambda a: a, None)
    assert equal_forced({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not equal_forced(f, f)
    assert equal_forced([f], [f])
    assert values_equal(ContextString("x", frozenset({"c"})), "x")
    drv1 = {"type": "derivation", "outPath": "/o", "x": 1}
    drv2 = {"type": "derivation", "outPath": "/o"}
    assert equal_forced(drv1, drv2)


def test_apply_handles_primops_partial_application_and_functors() -> None:
    add = PrimOp("add", 2, lambda a, b: expect_int(a) + expect_int(b))
    assert call(add, 1, 2) == 3
    functor = {"__functor": Lambda(lambda self: Lambda(lambda x: expect_int(x) * 10, None),
                                   None)}
    assert apply(functor, 4) == 40
    lazy = lazy_apply(add, Thunk(lambda env: 1 / 0, None))
    assert type(lazy) is Thunk and lazy.code is not None
    with pytest.raises(EvalError, match="attempt to call something which is not a function"):
        apply(3, 1)


def test_force_deep_forces_everything_and_terminates_on_cycles() -> None:
    cyclic: dict = {}
    cyclic["self"] = Thunk(lambda env: cyclic, None)
    inner = Thunk(lambda env: [Thunk(lambda env: 5, None)], None)
    force_deep({"a": inner, "c": cyclic})
    assert inner.value[0].value == 5


def test_force_deep_names_the_attribute_path_of_an_error() -> None:
    from ndx.evaluator.errors import ThrownError

    def boom(env: object) -> object:
        raise ThrownError("boom")

    with pytest.raises(ThrownError) as info:
        force_deep({"outer": {"inner": Thunk(boom, None)}})
    frames = [text for text, _ in info.value.frames]
    assert frames == ["while evaluating the attribute 'inner'",
                      "while evaluating the attribute 'outer'"]


def test_a_thunk_forced_during_its_own_forcing_is_infinite_recursion() -> None:
    box: list = []
    box.append(Thunk(lambda env: box[0].force(), None))
    with pytest.raises(InfiniteRecursionError):
        box[0].force()
    assert box[0].code is not None  # no blackhole left behind


def test_integer_arithmetic_wraps_and_divides_toward_zero() -> None:
    assert wrap_int(2**63) == -(2**63)
    assert div(7, -2) == -3 and div(-7, 2) == -3
    with pytest.raises(EvalError, match="division by zero"):
        div(1, 0)


def test_context_builtins_table_holds_itself_and_constants() -> None:
    ctx = EvalContext()
    assert ctx.builtins["builtins"] is ctx.builtins
    assert ctx.builtins["langVersion"] == 6
    assert ctx.builtins["storeDir"] == "/ndx/store"
