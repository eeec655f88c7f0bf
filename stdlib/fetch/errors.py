"""The error of an evaluation-time fetch (a download, an unpack, a git command)."""

from __future__ import annotations

from ndx.evaluator.errors import EvalError


class FetchError(EvalError):
    """A fetcher builtin could not deliver: the message names the URL and the cause."""

    code = "E-fetch"
