#!/bin/sh
# Prepare a Debian/Ubuntu machine for ndx: system packages, a Python venv with ndx and its
# test tools, and the offline source mirror. Idempotent and non-interactive; every step
# is skipped when already done. Needs root or sudo for apt.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# System packages, one per line with the reason.
PACKAGES="
python3 python3-venv python3-pip   # the interpreter and venv
git ca-certificates curl           # clones, TLS
mercurial                          # builtins.fetchMercurial and its tests
build-essential                    # gcc/make for packages built from source (host toolchain)
musl-tools                         # static linking with musl-gcc: tiny images
dpkg-dev                           # apt-get source, to fill the offline source mirror
bubblewrap                         # the build sandbox
nix-bin                            # Nix 2.8, the differential oracle for the language
docker.io                          # the real engine the image tests load and run images in
podman runc uidmap                 # a second real engine
skopeo umoci                       # real clients that inspect/convert our images
docker-registry                    # the CNCF distribution registry for registry tests
debootstrap busybox-static         # local base images for the registry tests
zstd                               # reference compressor for the image benchmark
vim-nox                            # the Vim grammar's headless tests
tmux                               # REPL tests through a real terminal
nodejs npm                         # vscode-textmate tests of the TextMate grammar
"
want=$(printf '%s\n' "$PACKAGES" | sed 's/#.*//' | tr -s ' \n' '\n' | grep -v '^$')
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    $SUDO apt-get update -q
    # nodejs may already come from another source that provides npm itself.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
            $(echo "$missing" | sed 's/\bnpm\b//')
fi

# Python: one venv in the checkout, ndx installed editable with its test extras.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.ndx-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e ".[test]"
    touch "$stamp"
fi

# Further set-up steps (source mirror, npm packages, …) are scripts in scripts/setup.d/,
# run in order; each is idempotent.
if [ -d scripts/setup.d ]; then
    for step in scripts/setup.d/*.sh; do
        [ -e "$step" ] || continue
        sh "$step"
    done
fi
echo "setup: ready ($ROOT)"
