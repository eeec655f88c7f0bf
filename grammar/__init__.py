"""ndx.grammar — the one grammar (ndx.lark) and the editor grammars, shipped as package data."""
