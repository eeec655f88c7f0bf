"""Ctrl-C during an evaluation (`run_deep`): the evaluation thread itself stops, the
caller gets KeyboardInterrupt, and no thunk is left half-evaluated.

The interrupt is a real SIGINT sent to this process at a known point of the evaluation
(when it prints a `builtins.trace` message), so the tests do not depend on timing."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ndx.evaluator.context import EvalContext
from ndx.evaluator.session import run_deep
from ndx.evaluator.values import Thunk

from .conftest import Captured

ENDLESS = ('builtins.trace "started" (builtins.length (builtins.genericClosure { '
           'startSet = [ { key = 0; } ]; operator = item: [ { key = item.key + 1; } ]; }))')
"""An evaluation that runs until it is interrupted, in constant stack."""


class InterruptOnTrace:
    """A trace stream that sends SIGINT to this process when a message is printed."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def write(self, text: str) -> None:
        self.messages.append(text)
        os.kill(os.getpid(), signal.SIGINT)

    def flush(self) -> None:
        pass


def test_ctrl_c_stops_the_evaluation_thread_and_leaves_no_blackhole() -> None:
    ctx = EvalContext(trace_stream=InterruptOnTrace())
    endless = ctx.suspend_string(ENDLESS)
    for _ in range(3):
        with pytest.raises(KeyboardInterrupt):
            run_deep(endless.force)
        assert isinstance(endless, Thunk) and endless.code is not None
        assert "suspended" in repr(endless)
        assert [t for t in threading.enumerate() if t.name == "ndx-eval"] == []
    assert len(ctx.trace_stream.messages) == 3  # type: ignore[union-attr]
    assert ctx.evaluate_string("let f = n: if n == 0 then 0 else 1 + f (n - 1); "
                               "in f 20000") == 20000


def test_the_session_reports_the_interrupt_and_goes_on(session: Captured) -> None:
    session.session.ctx.trace_stream = InterruptOnTrace()
    session.run(f"endless = {ENDLESS}")
    for _ in range(2):
        assert session.run("endless") == ("", "error: interrupted\n")
        assert session.last_result is True
    assert session.value("1 + 1") == "2"
