"""ndx.lang — the syntax of ndx: source text to a typed AST with spans.

This package imports nothing else of ndx and is the only place that imports lark.
"""
