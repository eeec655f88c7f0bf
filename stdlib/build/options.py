"""What a build run may do, and what it did."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuildOptions:
    """Knobs of one build run (`ndx-build`'s flags)."""

    jobs: int = 1                 # derivations built at the same time (-j)
    cores: int = 0                # NIX_BUILD_CORES for each builder; 0 = all CPUs
    keep_failed: bool = False     # keep a failed build's directory (-K)
    keep_going: bool = False      # build what can be built after a failure
    check: bool = False           # rebuild the targets and compare bit for bit
    sandbox: bool | None = None   # None: the store's setting

    def build_cores(self) -> int:
        return self.cores or os.cpu_count() or 1


@dataclass
class BuildReport:
    """What a build run did: the derivations it built and the outputs of each target."""

    built: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
