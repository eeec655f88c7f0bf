"""The Pygments lexer for ndx. Imports pygments: reach it through `pygments_lexer`.

A stateful lexer whose state stack mirrors the TextMate grammar's regions (see
`textmate.py`): `${` pushes an `interpolation` state whose `}` pops it, and `{` pushes a
`braces` state of its own, so interpolation nests to any depth. The token patterns come
from `lexical.py` and the word lists from `vocabulary.json`, shared with the other
grammars.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pygments.lexer import ExtendedRegexLexer, bygroups, default, include
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from . import lexical as lx
from .vocabulary import Vocabulary, alternation, load_vocabulary

PATH_TOKEN = String.Path
"""Paths (`./a`, `~/x`, `<nixpkgs>`): a kind of string, as Nix coerces them."""

URI_TOKEN = String.Uri
"""Unquoted URIs (`http://example.org`)."""



def _groups(*token_types: Any) -> Any:
    """Pygments' `bygroups` (a token type per regex group), with a type Pygments omits."""
    return bygroups(*token_types)


NOTHING = _groups()
"""The action of a zero-width match that only changes state (it yields no token)."""


def _words(names: tuple[str, ...]) -> str:
    return rf"{lx.WORD_START}(?:{alternation(names)}){lx.WORD_END}"


def _token_rules(vocabulary: Vocabulary) -> dict[str, list[Any]]:
    """The lexer's states; `root` is an expression."""
    control = tuple(word for word in vocabulary.control_keywords
                    if word not in ("let", "with", "assert"))
    binding_end = [
        (r";", Punctuation, "#pop"),
        (r"(?=\})", NOTHING, "#pop"),
        (rf"(?={lx.WORD_START}in{lx.WORD_END})", NOTHING, "#pop"),
    ]
    return {
        "root": [include("expression")],
        "trivia": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r"/\*", Comment.Multiline, "block-comment"),
        ],
        "block-comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
        "expression": [
            include("trivia"),
            (r'"', String.Double, "string"),
            (r"''", String.Heredoc, "indented-string"),
            (lx.INTERPOLATED_PATH_START, PATH_TOKEN, "interpolated-path"),
            (lx.URI, URI_TOKEN),
            (lx.SEARCH_PATH, PATH_TOKEN),
            (lx.HOME_PATH, PATH_TOKEN),
            (lx.PATH, PATH_TOKEN),
            (lx.FLOAT, Number.Float),
            (lx.INTEGER, Number.Integer),
            (rf"{_words(('let',))}(?=\s*\{{)", Keyword),  # the old `let { …; body = …; }`
            (_words(("let",)), Keyword, "let"),
            (_words(("with", "assert")), Keyword, "statement-prefix"),
            (r"\{", Punctuation, "braces"),
            (r"\$\{", String.Interpol, "interpolation"),
            (r"\(", Punctuation, "parens"),
            (r"\[", Punctuation, "brackets"),
            (rf"(\?)(\s*)({lx.IDENTIFIER})", _groups(Operator, Whitespace, Name.Attribute)),
            (_words(control), Keyword),
            (_words(vocabulary.other_keywords), Keyword.Declaration),
            (_words(vocabulary.operator_keywords), Operator.Word),
            (_words(vocabulary.constants), Keyword.Constant),
            ((rf"{lx.WORD_START}(builtins)(\s*)(\.)(\s*)"
              rf"({alternation(vocabulary.builtin_functions())}){lx.WORD_END}"),
             _groups(Name.Builtin, Whitespace, Punctuation, Whitespace, Name.Builtin)),
            (r"\.\.\.", Punctuation),
            (rf"(\.)(\s*)({lx.IDENTIFIER})", _groups(Punctuation, Whitespace, Name.Attribute)),
            (rf"({lx.IDENTIFIER})(\s*)({lx.LAMBDA_COLON})",
             _groups(Name.Variable, Whitespace, Punctuation)),
            (rf"({lx.IDENTIFIER})(\s*)(@)", _groups(Name.Variable, Whitespace, Punctuation)),
            (_words(vocabulary.global_functions()), Name.Builtin),
            (alternation(vocabulary.all_operators()), Operator),
            (r"=", Operator),
            (r"[.;:,@]", Punctuation),
            (lx.IDENTIFIER, Name),
        ],
        "string": [
            (r'"', String.Double, "#pop"),
            (r"\\[\s\S]", String.Escape),
            (r"\$\$", String.Double),
            (r"\$\{", String.Interpol, "interpolation"),
            (r'[^"\\$]+', String.Double),
            (r"\$", String.Double),
        ],
        "indented-string": [
            (r"''(?:'|\$|\\[\s\S])", String.Escape),
            (r"''", String.Heredoc, "#pop"),
            (r"\$\$", String.Heredoc),
            (r"\$\{", String.Interpol, "interpolation"),
            (r"[^'$]+", String.Heredoc),
            (r"['$]", String.Heredoc),
        ],
        "interpolated-path": [
            (r"\$\{", String.Interpol, "interpolation"),
            (rf"(?:{lx.PATH_CHAR}|/)+", PATH_TOKEN),
            default("#pop"),
        ],
        "interpolation": [
            (r"\}", String.Interpol, "#pop"),
            include("expression"),
        ],
        "parens": [(r"\)", Punctuation, "#pop"), include("expression")],
        "brackets": [(r"\]", Punctuation, "#pop"), include("expression")],
        "braces": [
            include("trivia"),
            (r"\}", Punctuation, "#pop"),
            include("statements"),
        ],
        "let": [
            include("trivia"),
            (_words(("in",)), Keyword, "#pop"),
            include("statements"),
        ],
        "statements": [
            (_words(("inherit",)), Keyword.Declaration, "inherit"),
            (rf"({lx.IDENTIFIER}){lx.BINDING_LOOKAHEAD}", Name.Attribute, "binding"),
            (r'(?="|\$\{)', NOTHING, "binding"),
            (r"=", Operator, "binding"),
            (r"\?", Operator, "formal-default"),
            (r"\.\.\.", Punctuation),
            (r"[,;]", Punctuation),
            (lx.IDENTIFIER, Name.Variable),
        ],
        "binding": [*binding_end, include("expression")],
        "inherit": [
            include("trivia"),
            *binding_end[:2],
            (r"\(", Punctuation, "parens"),
            (r'"', String.Double, "string"),
            (lx.IDENTIFIER, Name.Attribute),
        ],
        "statement-prefix": [(r";", Punctuation, "#pop"), include("expression")],
        "formal-default": [(r"(?=[,}])", NOTHING, "#pop"), include("expression")],
    }


class NdxLexer(ExtendedRegexLexer):
    """ndx: the Nix expression language (`.ndx` files)."""

    name = "ndx"
    aliases: ClassVar[list[str]] = ["ndx"]
    filenames: ClassVar[list[str]] = ["*.ndx"]
    mimetypes: ClassVar[list[str]] = ["text/x-ndx"]
    tokens = _token_rules(load_vocabulary())
