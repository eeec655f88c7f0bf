"""Nix 2.8 as the oracle: its `--parse` output, and our AST written the same way.

`nix-instantiate --parse` prints the expression fully parenthesised in its own syntax
(`1 - 2` is `(__sub 1 2)`); `show` writes our AST exactly so, so the two strings can be
compared. Free variables are bound by wrapping the text in `_: with _; (…)`.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

from ndx.lang.ast import (
    Apply,
    Assert,
    AttrSet,
    BinaryOp,
    BindingKind,
    BinOp,
    CurPos,
    Expr,
    Float,
    HasAttr,
    If,
    Int,
    Interpolation,
    Lambda,
    Let,
    List,
    Negate,
    Not,
    Path,
    PathInterpolation,
    SearchPath,
    Select,
    Str,
    Var,
    With,
)
from ndx.lang.printer import IDENTIFIER, string_literal

WRAP_PREFIX = "_: with _; ("
WRAP_SUFFIX = "\n)"


class NixError(Exception):
    """Nix rejected the expression (the message is Nix's)."""


def nix_parse(text: str, cwd: str | None = None) -> str:
    """Nix's `--parse` output for `text` wrapped so free variables are allowed; raises
    NixError when Nix rejects it."""
    result = subprocess.run(
        ["nix-instantiate", "--parse", "-E", WRAP_PREFIX + text + WRAP_SUFFIX],
        capture_output=True, text=True, cwd=cwd, timeout=60, check=False)
    if result.returncode != 0:
        raise NixError(result.stderr.strip())
    out = result.stdout.strip()
    prefix, suffix = "(_: (with _; ", "))"
    assert out.startswith(prefix) and out.endswith(suffix), out
    return out[len(prefix):-len(suffix)]


def nix_parse_many(texts: list[str], cwd: str | None = None) -> dict[str, str | NixError]:
    """`nix_parse` of each text (two at a time: the machine has two cores)."""
    def one(text: str) -> str | NixError:
        try:
            return nix_parse(text, cwd)
        except NixError as exc:
            return exc
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(texts, pool.map(one, texts), strict=True))


def nix_eval(text: str) -> str:
    """Nix's strict evaluation of `text`, printed (raises NixError)."""
    result = subprocess.run(["nix-instantiate", "--eval", "--strict", "-E", text],
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise NixError(result.stderr.strip())
    return result.stdout.strip()


#: A string as Nix 2.8 prints it: double-quoted, escaping `"`, `\\`, `$` and the three
#: control characters — the same escapes as our printer's.
show_string = string_literal


def show_name(name: str) -> str:
    """An attribute name as Nix prints it: bare when it is an identifier, else quoted."""
    # (Nix 2.8's printIdentifier: of the keywords it only quotes `if`)
    bare = IDENTIFIER.match(name) and name != "if"
    return name if bare else show_string(name)


def _show_path(path: tuple) -> str:
    return ".".join(show_name(key) if isinstance(key, str) else '"${' + show(key) + '}"'
                    for key in path)


def show(expr: Expr) -> str:
    """Our AST in the syntax of Nix 2.8's `Expr::show`."""
    kind = type(expr)
    if kind is Int:
        return str(expr.value)
    if kind is Float:
        return f"{expr.value:g}"
    if kind is Str:
        return show_string(expr.value)
    if kind is Path:
        return expr.value
    if kind is Var:
        return expr.name
    if kind is CurPos:
        return "__curPos"
    if kind is SearchPath:
        return f'(__findFile __nixPath {show_string(expr.name)})'
    if kind is Interpolation:
        return "(" + " + ".join(show(part) for part in expr.parts) + ")"
    if kind is PathInterpolation:
        first, *rest = expr.parts
        return "(" + " + ".join([first.value] + [show(part) for part in rest]) + ")"
    if kind is Select:
        text = f"({show(expr.subject)}).{_show_path(expr.path)}"
        if expr.default is not None:
            text += f" or ({show(expr.default)})"
        return text
    if kind is HasAttr:
        return f"(({show(expr.subject)}) ? {_show_path(expr.path)})"
    if kind is AttrSet:
        return ("rec " if expr.recursive else "") + _show_bindings(expr.bindings, True)
    if kind is Let:
        return "(let " + _show_bindings(expr.bindings, False) + "in " + show(expr.body) + ")"
    if kind is With:
        return f"(with {show(expr.namespace)}; {show(expr.body)})"
    if kind is Assert:
        return f"assert {show(expr.cond)}; {show(expr.body)}"
    if kind is If:
        return f"(if {show(expr.cond)} then {show(expr.then)} else {show(expr.else_)})"
    if kind is List:
        return "[ " + "".join(f"({show(item)}) " for item in expr.items) + "]"
    if kind is Lambda:
        text = "("
        if expr.formals is not None:
            items = [f.name if f.default is None else f"{f.name} ? {show(f.default)}"
                     for f in expr.formals.params]
            if expr.formals.ellipsis:
                items.append("...")
            text += "{ " + ", ".join(items) + " }"
            if expr.param is not None:
                text += " @ "
        if expr.param is not None:
            text += expr.param
        return text + ": " + show(expr.body) + ")"
    if kind is Apply:
        args = []
        while type(expr) is Apply:
            args.append(expr.arg)
            expr = expr.func
        head = show(expr)
        # Nix builds `<p>`, `-x`, `a - b`, `a * b`, `a / b`, `a < b`, `a > b` as calls of
        # builtins (`__findFile`, `__sub`, …), and application adds to such a call.
        if type(expr) in (SearchPath, Negate) or (type(expr) is BinOp and expr.op in (
                BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.LT, BinaryOp.GT)):
            head = head[1:-1]
        return "(" + " ".join([head] + [show(arg) for arg in reversed(args)]) + ")"
    if kind is Not:
        return f"(! {show(expr.operand)})"
    if kind is Negate:
        return f"(__sub 0 {show(expr.operand)})"
    if kind is BinOp:
        left, right = show(expr.left), show(expr.right)
        op = expr.op
        if op is BinaryOp.SUB:
            return f"(__sub {left} {right})"
        if op is BinaryOp.MUL:
            return f"(__mul {left} {right})"
        if op is BinaryOp.DIV:
            return f"(__div {left} {right})"
        if op is BinaryOp.LT:
            return f"(__lessThan {left} {right})"
        if op is BinaryOp.GT:
            return f"(__lessThan {right} {left})"
        if op is BinaryOp.LE:
            return f"(! (__lessThan {right} {left}))"
        if op is BinaryOp.GE:
            return f"(! (__lessThan {left} {right}))"
        return f"({left} {op.value} {right})"
    raise TypeError(f"cannot show {kind.__name__}")


def _show_bindings(bindings, is_set: bool) -> str:
    attrs = list(bindings.attrs)
    if is_set:
        attrs.sort(key=lambda b: b.name)
    out = ["{ "] if is_set else []
    for binding in attrs:
        if binding.kind is BindingKind.INHERIT:
            name = show_name(binding.name)
            out.append(f"inherit {name} ; " if is_set else f"inherit {name}; ")
        elif binding.kind is BindingKind.INHERIT_FROM:
            source = bindings.inherit_sources[binding.value.subject.index]
            name = show_name(binding.name)
            out.append(f"{name} = ({show(source)}).{name}; ")
        else:
            out.append(f"{show_name(binding.name)} = {show(binding.value)}; ")
    for dynamic in bindings.dynamic:
        out.append(f'"${{{show(dynamic.key)}}}" = {show(dynamic.value)}; ')
    if is_set:
        out.append("}")
    return "".join(out)


def nix_eval_json(text: str) -> object:
    """Nix's strict evaluation of `text` as JSON data (raises NixError)."""
    import json

    result = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E", text],
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise NixError(result.stderr.strip())
    return json.loads(result.stdout)
