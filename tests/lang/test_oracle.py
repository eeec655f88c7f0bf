"""Every construct of the language against Nix 2.8: same tree, or rejected by both.

Each text is parsed by us and by `nix-instantiate --parse` (in the same working
directory, so relative paths resolve alike); Nix's output must equal our AST written in
its syntax (see nix_oracle.show), and what Nix rejects as a syntax error we reject.
"""

from __future__ import annotations

import pytest

from ndx.lang import ParseError, parse

from .nix_oracle import NixError, nix_parse_many, show

CASES = [
    # numbers
    "0", "42", "007", "9223372036854775807", "9223372036854775808", "1.5", ".5", "0.5",
    "1.", "1.e3", ".5e3", "2.5e-3", "1.5E+3", "00.5", "01.5", "1.5.3", "0.", "1.e",
    "1.0e999", "1.0e-320", "1.0e-400", "0.0e-400", "1.7976931348623157e308",
    "1.7976931348623159e308", "2.2250738585072014e-308", "2.2250738585072011e-308",
    # identifiers, keywords
    "a'b", "a-b", "a_b'-c", "x-1", "__curPos", "_", "iffy", "or_", "a.or", "{ or = 1; }.or",
    "if", "let", "then",
    # paths
    "./a", "../a/b", "/abs/p", "a/b", "1/2", "a.b/c", "-/a", "++/a", "./a/", "./a//b", "/",
    "~/x", "~/a/../b", "/a/../..", "./.", "a /b", "a / b", "a/ b", "./${x}.ndx", "~/${x}",
    "/a/${x}/b", "./a${x}", "./a/${x}", "./${x}/", "./${x}//b", "./a//${x}", "./${x}${y}",
    "/${x}", "./${x}a/b.c", "<nixpkgs>", "<a/b>", "<a/b/>", "a<b>c", "<a>/x",
    # URIs
    "http://example.org/a?b=c", "x:x", "a:b", "if:x", "x: x", "git+ssh://h/p", "a:", "a:'b",
    # strings
    '"a"', '"a${b}c"', '"${a}"', '"a${"b${c}"}d"', '"$${x}"', "''a${b}''", "''${a}''",
    # sets and lets
    "{ }", "{ a = 1; }", "rec { a = 1; b = a; }", "{ a.b.c = 1; }", "{ a.b = 1; a.c = 2; }",
    "{ a = { b = 1; }; a.c = 2; }", "{ a.c = 2; a = { b = 1; }; }",
    "{ a = { b = 1; }; a = { c = 2; }; }", "{ a = rec { c = 2; }; a.b = 1; }",
    "{ a.b = 1; a = rec { c = 2; d = c; }; }", "{ a.b = 1; a = { ${c} = 2; }; }",
    "{ a = { ${c} = 2; }; a.b = 1; }", "{ a = 1; a = 2; }", "{ a.b = 1; a.b = 2; }",
    "{ a = 1; a.b = 2; }", "{ a.b = 1; a = 2; }", "{ inherit a; a.b = 1; }",
    "{ a.b = 1; inherit a; }", "{ inherit a; inherit a; }", "{ inherit (x) a; a = 1; }",
    "{ ${a} = 1; }", "{ ${a}.b = 1; ${a}.c = 2; }", "{ a.${b}.c = 1; a.${b}.d = 2; }",
    '{ "a b" = 1; }', '{ "a${b}" = 1; }', '{ ${"a"} = 1; }', '{ "${"a"}" = 1; }',
    "{ ${''a''} = 1; }", '{ a.${"b"} = 1; a.b = 2; }', "{ inherit; }", "{ inherit (x); }",
    '{ inherit "a b"; }', "{ inherit ${a}; }", '{ inherit "${a}"; }', "{ inherit ${\"a\"}; }",
    "{ inherit a b; inherit (x) c d; }", "{ inherit or; }", "{ or = 1; }", "{ a.or = 1; }",
    "{ a = { inherit (x) b; }; a = { inherit (y) c; }; }",
    "{ a.z = 1; a = { inherit (x) b c; }; }", "{ a = { inherit (x) b; }; a.c = 2; }",
    "rec { a = rec { b = 1; }; a.c = b; }", "{ a.b.c = 1; a = { b.d = 2; }; }",
    "{ a = { b.c = 1; }; a.b.d = 2; }", "{ a = { b = { }; }; a.b.c = 1; }",
    "{ a.b = 1; a = { b.c = 2; }; }", "let a.b = 1; a.c = 2; in a", "{ a = 1 }", "{ a }", "{ a = 1; b }", "{ ''a'' = 1; }", "{ 1 = 1; }", "{ a = 1;; }",
    "let a = 1; in a", "let in 1", "let a.b = 1; in a", "let ${a} = 1; in a",
    "let a.${b} = 1; in a", "let inherit a; in a", "let inherit (x) a; in a",
    "let a = 1; a = 2; in a", "let { body = 1; }", "let { a = 1; body = a; }", "let { }",
    "let { ${a} = 1; }", "rec { }", "rec { ${a} = 1; }",
    # lists
    "[ ]", "[ 1 2 3 ]", "[ f x ]", "[ (f x) ]", "[ a.b or c ]", "[ -1 ]", "[ a or ]",
    # functions
    "x: x", "x: y: x", "{ }: 1", "{ ... }: 1", "{ a }: a", "{ a, }: a", "{ a, ... }: a",
    "{ a ? 1 }: a", "{ a, b ? a }: a", "args@{ a, ... }: a", "{ a }@args: a", "a@{ }: a",
    "{ }@a: a", "{ a, a }: a", "{ a }@a: a", "a@{ a }: a", "{ ..., a }: a", "{ a, ..., }: a",
    "{ or }: 1", "{ a ? x: x }: a", "{ a ? { } }: a", "x@y: x", "{ , }: 1", "{ a b }: a",
    # control
    "if a then b else c", "if a then b", "assert a; b", "with a; b", "with a; with b; c",
    "if a then b else if c then d else e", "assert a; assert b; c",
    # selection and application
    "a.b.c", 'a."b".${c}', "a.${b}", 'a.${"b"}', "a.b or c", "f a b", "(f a) b", "f (a b)",
    "f or", "(a or)", "a or.b", "a.b.or", "{ a = 1; }.a", "[ 1 ].a", "(1).a", '"a".b',
    "a ? b", "a ? b.c", 'a ? "b"', "a ? ${b}", "a ? b.${c}", "a.b ? c",
    # comments and whitespace
    "1 # c\n", "/* c */ 1", "1 /* c */ + /**/ 2", "1 /* unterminated", "1 /* a */ */",
    "# only\n1", "\t1\r\n", "a/*c*/.b", "1/**/2", "x:/*c*/x",
    # stray characters
    "$", "`", "1 & 2", "a | b", "1 %", "\\", "'a'", "a\0b", "é", "1 ;",
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("oracle"))


@pytest.fixture(scope="module")
def nix_results(workdir: str) -> dict[str, str | NixError]:
    return nix_parse_many([c for c in CASES if "\0" not in c], cwd=workdir)


@pytest.mark.parametrize("text", CASES)
def test_same_tree_as_nix(text: str, workdir: str, nix_results: dict[str, str | NixError]) -> None:
    expected = nix_results.get(text, NixError("syntax error (NUL)"))
    if isinstance(expected, NixError):
        message = str(expected)
        if "undefined variable" in message:
            pytest.fail(f"test case leaks a free variable: {message}")
        with pytest.raises(ParseError):
            parse(text, base_dir=workdir)
    else:
        assert show(parse(text, base_dir=workdir)) == expected
