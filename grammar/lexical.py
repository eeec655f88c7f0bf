"""Regular expressions for ndx's tokens, shared by the TextMate grammar and the Pygments lexer.

They describe the Nix expression language's tokens exactly (Nix's lexer is the reference:
`nix-instantiate --parse` decides every doubt), including the surprises a highlighter
must reproduce: `a/b` and `1/2` are paths, `x:x` is a URI, `a-b` and `foldl'` are
identifiers. One deliberate extension: `1e3` is a float in ndx (Nix 2.8 reads it as the
integer 1 applied to `e3`, which is always an error), but `1e3x` is still `1` and `e3x`.

The syntax is the subset Python's `re` and Oniguruma agree on (classes, non-capturing
groups, lookahead and lookbehind), so both engines read the same strings.
"""

ID_CHAR = r"[a-zA-Z0-9_'\-]"
"""A character that may continue an identifier."""

IDENTIFIER = r"[a-zA-Z_][a-zA-Z0-9_'\-]*"
"""A name: `x`, `foldl'`, `a-b`, `_0`."""

WORD_START = rf"(?<!{ID_CHAR})"
"""Not in the middle of an identifier (put before a keyword or builtin)."""

WORD_END = rf"(?!{ID_CHAR})"
"""The word ends here (`in` but not `inherit`, `x` but not `x-1`)."""

PATH_CHAR = r"[a-zA-Z0-9._\-+]"
"""A character of a path segment."""

PATH = rf"{PATH_CHAR}*(?:/{PATH_CHAR}+)+/?"
"""A relative or absolute path: `./a`, `../a/b`, `/abs/p`, `a/b` (a path, not a division)."""

HOME_PATH = rf"~(?:/{PATH_CHAR}+)+/?"
"""A path under the home directory: `~/x`."""

SEARCH_PATH = rf"<{PATH_CHAR}+(?:/{PATH_CHAR}+)*>"
"""A search-path lookup: `<nixpkgs>`, `<nixpkgs/lib>`."""

INTERPOLATED_PATH_START = rf"(?:~|{PATH_CHAR}*)(?:/{PATH_CHAR}+)*/{PATH_CHAR}*(?=\$\{{)"
"""The literal head of a path that continues with `${`: `./` in `./${x}.ndx`, `~/a` in `~/a${b}`."""

URI_CHAR = r"[a-zA-Z0-9%/?:@&=+$,\-_.!~*']"
"""A character of a URI after the scheme's colon."""

URI = rf"[a-zA-Z][a-zA-Z0-9+\-.]*:{URI_CHAR}+"
"""An unquoted URI: `http://example.org/a?b=c`, and also `x:x` (write `x: x` for a function)."""

FLOAT = (r"(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?"
         r"|[0-9]+[Ee][+-]?[0-9]+(?![a-zA-Z0-9_'-])")
"""A float: `1.5`, `.5`, `1.`, `1.5e3`, `0.1E-2`, `1e3` (but not the `1` of `1e3x`)."""

INTEGER = r"[0-9]+"
"""An integer (a minus sign is the negation operator)."""

LAMBDA_COLON = rf":(?!{URI_CHAR})"
"""The colon after a function's parameter: one not followed by a URI character."""

INLINE_BLOCK_COMMENT = r"/\*(?:[^*]|\*+[^*/])*\*+/"
"""A block comment on one line, allowed between an attribute name and its `=`."""

BINDING_LOOKAHEAD = rf"(?=\s*(?:{INLINE_BLOCK_COMMENT}\s*)*(?:\.|=(?!=)))"
"""After an attribute name: the rest of an attribute path or the `=` of a binding follows."""
