#!/bin/sh
# npm packages of the TextMate grammar's tests: vscode-textmate and vscode-oniguruma, the
# engine VS Code highlights with, pinned by tests/editors/textmate/package-lock.json.
# Idempotent: skipped while node_modules was installed from the current lock file.
set -eu
cd "$(dirname "$0")/../.."
dir=tests/editors/textmate
stamp=$dir/node_modules/.ndx-installed
if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm is missing (scripts/setup.sh installs Debian's nodejs and npm)" >&2
    exit 1
fi
echo "setup: installing the npm packages of the editor-grammar tests ($dir)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
touch "$stamp"
