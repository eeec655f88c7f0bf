"""A separate build process for the crash and concurrency tests:

    python worker.py STORE_DIR [--jobs N] [--add DIR] DRV_PATH…

builds the derivations (after adding DIR to the store, if given) and prints one JSON
line: the derivations it built and the messages it got (e.g. waiting for a lock)."""

from __future__ import annotations

import argparse
import json

from ndx.stdlib.build.options import BuildOptions
from ndx.stdlib.build.progress import Reporter
from ndx.stdlib.store.disk import DiskStore


class Messages(Reporter):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def message(self, text: str) -> None:
        self.messages.append(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("drvs", nargs="*")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--add")
    args = parser.parse_args()
    store = DiskStore(args.store)
    if args.add:
        store.add_path(args.add, name="added")
    reporter = Messages()
    report = store.build(args.drvs, BuildOptions(jobs=args.jobs), reporter)
    print(json.dumps({"built": report.built, "messages": reporter.messages}), flush=True)
    store.close()


if __name__ == "__main__":
    main()
