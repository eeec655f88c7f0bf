#!/bin/sh
# One command for each step of the developer loop (see README.md, Contributing):
#   ./dev.sh example [ARGS]   set everything up, then build the example image
#   ./dev.sh test [ARGS]      set everything up, then run the whole test suite (pytest ARGS)
#   ./dev.sh lint [ARGS]      ruff check (rules in pyproject.toml; ARGS e.g. --fix)
#   ./dev.sh types [PKG…]     mypy --strict on ndx.lang, ndx.evaluator, ndx.stdlib, … (or PKG…)
#   ./dev.sh fuzz [SCALE]     the parser's property tests with SCALE (default 20) times the
#                             examples of a normal run
#   ./dev.sh bench [NAME…]    the benchmarks in benchmarks/ (parse eval builtins image
#                             layered startup; default: all), each against its reference
#   ./dev.sh setup            system packages and the venv only
set -eu
cd "$(dirname "$0")"
command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    example)
        sh scripts/setup.sh
        exec sh scripts/example.sh "$@"
        ;;
    test)
        sh scripts/setup.sh
        exec .venv/bin/python -m pytest "$@"
        ;;
    lint)
        exec .venv/bin/python -m ruff check "$@" .
        ;;
    types)
        exec .venv/bin/python scripts/typecheck.py "$@"
        ;;
    fuzz)
        NDX_FUZZ_SCALE="${1:-20}"
        export NDX_FUZZ_SCALE
        exec .venv/bin/python -m pytest -p no:cacheprovider \
            tests/lang/test_robustness.py tests/lang/test_printer.py \
            tests/lang/test_differential.py
        ;;
    bench)
        [ $# -gt 0 ] || set -- parse eval builtins image layered startup
        for name in "$@"; do
            if [ ! -f "benchmarks/$name.py" ]; then
                echo "no benchmark '$name' (have: $(cd benchmarks && ls *.py | sed 's/\.py$//' | tr '\n' ' '))" >&2
                exit 2
            fi
        done
        for name in "$@"; do
            echo "== benchmarks/$name.py"
            .venv/bin/python "benchmarks/$name.py"
        done
        ;;
    setup)
        exec sh scripts/setup.sh
        ;;
    *)
        echo "usage: ./dev.sh example | test [pytest args] | lint | types | fuzz [scale]" \
             "| bench [name…] | setup" >&2
        exit 2
        ;;
esac
