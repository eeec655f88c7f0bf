"""How many examples the parser's property tests try: their usual number in the test
suite, that many times `NDX_FUZZ_SCALE` in a long fuzzing run (`./dev.sh fuzz`)."""

from __future__ import annotations

import os

SCALE_VARIABLE = "NDX_FUZZ_SCALE"


def scale() -> int:
    """The multiplier from the environment (1 when unset)."""
    text = os.environ.get(SCALE_VARIABLE, "1")
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{SCALE_VARIABLE}={text!r}: expected a whole number") from None
    if value < 1:
        raise ValueError(f"{SCALE_VARIABLE}={value}: expected 1 or more")
    return value


def examples(usual: int) -> int:
    """`usual` examples, scaled for a fuzzing run."""
    return usual * scale()
