#!/bin/sh
# The two Quick start commands (see README.md):
#   ./dev.sh example   set everything up, then build the example image
#   ./dev.sh test      set everything up, then run the whole test suite
set -eu
cd "$(dirname "$0")"
case "${1:-}" in
    example)
        sh scripts/setup.sh
        shift
        exec sh scripts/example.sh "$@"
        ;;
    test)
        sh scripts/setup.sh
        shift
        exec .venv/bin/python -m pytest "$@"
        ;;
    setup)
        exec sh scripts/setup.sh
        ;;
    *)
        echo "usage: ./dev.sh example | test [pytest args] | setup" >&2
        exit 2
        ;;
esac
