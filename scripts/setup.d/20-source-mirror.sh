#!/bin/sh
# Fill the offline source mirror: the upstream tarballs the package recipes fetch, stored by
# hash as <mirror>/<algo>/<hex digest> (sha256, sha1 and sha512 names for the same bytes), so
# builds can be served them with NDX_HASHED_MIRRORS=file://<mirror> where the upstream
# download sites are out of reach. The bytes come from Debian's source packages (the orig
# tarball of a source package is the upstream tarball), downloaded with apt-get from a private
# apt state under .cache/ (no change to the system's apt configuration, no root needed), and
# every file is checked against the sha256 in scripts/source-mirror.list before it is stored.
#
# Idempotent: when every listed tarball is already in the mirror it returns at once.
# Environment: NDX_SOURCE_MIRROR (default .cache/mirror), NDX_DEBIAN_ARCHIVE (default
# http://deb.debian.org/debian), NDX_DEBIAN_KEYRING (Debian's archive keyring); tests also set
# NDX_SOURCE_MIRROR_LIST (default scripts/source-mirror.list) and NDX_APT_SOURCE_STATE
# (default .cache/apt-source).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
LIST=${NDX_SOURCE_MIRROR_LIST:-$ROOT/scripts/source-mirror.list}
MIRROR=${NDX_SOURCE_MIRROR:-$ROOT/.cache/mirror}
ARCHIVE=${NDX_DEBIAN_ARCHIVE:-http://deb.debian.org/debian}
KEYRING=${NDX_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
APT_STATE=${NDX_APT_SOURCE_STATE:-$ROOT/.cache/apt-source}

entries() {
    # The list's data lines: package release orig-file sha256.
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$LIST"
}

missing=$(entries | while read -r pkg release file sha256; do
    [ -f "$MIRROR/sha256/$sha256" ] || echo "$pkg $release $file $sha256"
done)
if [ -z "$missing" ]; then
    exit 0
fi

for tool in apt-get sha256sum sha1sum sha512sum; do
    command -v "$tool" >/dev/null || { echo "source-mirror: $tool is needed" >&2; exit 1; }
done
[ -r "$KEYRING" ] || {
    echo "source-mirror: Debian's archive keyring $KEYRING is missing (apt-get install debian-archive-keyring, or set NDX_DEBIAN_KEYRING)" >&2
    exit 1
}

# A private apt state holding only the deb-src indices of the releases the list names.
mkdir -p "$APT_STATE/lists/partial" "$APT_STATE/cache/archives/partial"
releases=$(printf '%s\n' "$missing" | awk '{print $2}' | sort -u)
: > "$APT_STATE/sources.list"
for r in $releases; do
    echo "deb-src [signed-by=$KEYRING] $ARCHIVE $r main" >> "$APT_STATE/sources.list"
done
set -- -q -o Dir::Etc::SourceList="$APT_STATE/sources.list" \
    -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists="$APT_STATE/lists" \
    -o Dir::Cache="$APT_STATE/cache"
# apt drops root to the _apt user for downloads, which cannot write into our temp dir.
if [ "$(id -u)" -eq 0 ]; then set -- "$@" -o APT::Sandbox::User=root; fi
echo "source-mirror: reading Debian's source indices for: $(echo $releases)"
apt-get "$@" update >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$MIRROR/sha256" "$MIRROR/sha1" "$MIRROR/sha512"
printf '%s\n' "$missing" | while read -r pkg release file sha256; do
    dir="$work/$pkg-$release"
    mkdir -p "$dir"
    echo "source-mirror: $file (source package $pkg/$release)"
    if ! (cd "$dir" && apt-get "$@" source --download-only "$pkg/$release" >/dev/null); then
        echo "source-mirror: apt-get could not download the source package $pkg/$release" >&2
        exit 1
    fi
    if [ ! -f "$dir/$file" ]; then
        echo "source-mirror: $pkg/$release no longer ships $file: found $(ls "$dir" | tr '\n' ' ')" >&2
        exit 1
    fi
    got=$(sha256sum "$dir/$file" | cut -d' ' -f1)
    if [ "$got" != "$sha256" ]; then
        echo "source-mirror: $file has sha256 $got, expected $sha256: not stored" >&2
        exit 1
    fi
    # Store under a temporary name first, so an interrupted run never leaves a partial file
    # under a hash name.
    cp "$dir/$file" "$MIRROR/sha256/.$sha256.tmp"
    mv "$MIRROR/sha256/.$sha256.tmp" "$MIRROR/sha256/$sha256"
    sha1=$(sha1sum "$dir/$file" | cut -d' ' -f1)
    sha512=$(sha512sum "$dir/$file" | cut -d' ' -f1)
    ln -f "$MIRROR/sha256/$sha256" "$MIRROR/sha1/$sha1"
    ln -f "$MIRROR/sha256/$sha256" "$MIRROR/sha512/$sha512"
done
echo "source-mirror: $MIRROR is filled"
