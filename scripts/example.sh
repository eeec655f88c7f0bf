#!/bin/sh
# The example of `./dev.sh example`: for now, parse examples/hello.ndx and print its
# syntax tree (later stages evaluate it and build its image).
set -eu
cd "$(dirname "$0")/.."
echo "== ndx parse examples/hello.ndx"
exec .venv/bin/ndx parse examples/hello.ndx
