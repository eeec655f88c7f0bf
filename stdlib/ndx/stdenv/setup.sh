# The generic builder of stdenv.mkDerivation: one bash function per phase.
#
# A derivation's attributes arrive as environment variables (lists space-separated, true as
# "1", false as ""). Each phase `fooPhase` runs the attribute `$fooPhase` when the derivation
# sets it, else the function `default_fooPhase` below; `$preFoo` / `$postFoo` run around it.
# `dontFoo=1` skips a phase, `phases` replaces the list, `buildCommand` replaces them all.
#
# The build runs in the store's sandbox: PATH=/path-not-set, HOME=/homeless-shelter,
# TMPDIR=$NDX_BUILD_TOP; the host's /usr, /bin, /lib, /lib64 are there read-only when the
# derivation lists them in __impureHostDeps (the host toolchain, until a hermetic one).
#
# Sourced by default-builder.sh; tests source it directly and call the functions.

set -eu
set -o pipefail

# ---------------------------------------------------------------------------------------
# Environment

# The store's logical directory; a store path is $storeDir/<32 chars>-<name>.
storeDir=${NDX_STORE_DIR:-/ndx/store}

# build_inputs_path: the bin/ directories of the inputs, first nativeBuildInputs (tools that
# run during the build), then buildInputs.
build_inputs_path() {
    local p dirs=""
    for p in ${nativeBuildInputs-} ${buildInputs-} ${propagatedBuildInputs-}; do
        [ -d "$p/bin" ] && dirs="$dirs${dirs:+:}$p/bin"
    done
    echo "$dirs"
}

# host_path: the store-only PATH that runtime interpreters are looked up in when shebangs
# are patched: the outputs themselves and the (runtime) buildInputs. Never the host.
host_path() {
    local p o dirs=""
    for o in ${outputs:-out}; do
        p=${!o-}
        [ -n "$p" ] && [ -d "$p/bin" ] && dirs="$dirs${dirs:+:}$p/bin"
    done
    for p in ${buildInputs-} ${propagatedBuildInputs-}; do
        [ -d "$p/bin" ] && dirs="$dirs${dirs:+:}$p/bin"
    done
    echo "$dirs"
}

setup_environment() {
    local inputs
    inputs=$(build_inputs_path)
    # The host toolchain comes last, so a package's own tools win over the host's.
    export PATH="$inputs${inputs:+:}/usr/local/bin:/usr/bin:/bin"
    export NDX_BUILD_CORES=${NDX_BUILD_CORES:-${NIX_BUILD_CORES:-$(nproc 2>/dev/null || echo 1)}}
    export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1}
    # Tools that embed the time, locale or user in their output.
    export LC_ALL=C TZ=UTC
    export CONFIG_SHELL=${CONFIG_SHELL:-/bin/bash}
    # Files are written as 0644/0755 whatever the caller's umask was.
    umask 0022
}

# ---------------------------------------------------------------------------------------
# Helpers

# runHook NAME: run the hook attribute $NAME (a shell snippet) when it is set.
runHook() {
    local hook=$1
    if [ -n "${!hook-}" ]; then
        eval "${!hook}"
    fi
}

# runPhase NAME: run one phase with its hooks, unless `dontNAME` (dontBuild, …) is set.
runPhase() {
    local phase=$1 name
    name=${phase%Phase}
    local skip="dont${name^}"
    if [ -n "${!skip-}" ]; then
        return 0
    fi
    case "$phase" in
        checkPhase) [ -n "${doCheck-}" ] || return 0 ;;
        installCheckPhase) [ -n "${doInstallCheck-}" ] || return 0 ;;
    esac
    echo "ndx: ${name} phase" >&2
    if [ -n "${!phase-}" ]; then
        eval "${!phase}"
    else
        "default_$phase"
    fi
}

# make_flags_array VAR…: split the named space-separated flag attributes into FLAGS_ARRAY.
# Flags are words: a flag holding a space needs its own attribute and an explicit phase.
make_flags_array() {
    FLAGS_ARRAY=()
    local var words
    for var in "$@"; do
        # read -a splits on whitespace without expanding `*` or `?` in a flag.
        read -r -a words <<<"${!var-}" || true
        FLAGS_ARRAY+=(${words[@]+"${words[@]}"})
    done
}

# is_elf FILE: whether FILE starts with the ELF magic.
is_elf() {
    [ -f "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# ---------------------------------------------------------------------------------------
# Phases

# unpack: each of $srcs (or $src) is a tarball to extract or a directory to copy; the one
# directory they produce becomes the source root (set sourceRoot to choose another).
unpack_one() {
    local src=$1
    if [ -d "$src" ]; then
        local dest
        dest=$(basename "$src")
        dest=${dest#*-}  # a store path's name without its hash
        cp -r --no-preserve=mode,ownership "$src" "$dest"
        return 0
    fi
    # The build runs as the sandbox's only user: files are extracted as theirs.
    local tar="tar --no-same-owner"
    case "$src" in
        *.tar.gz | *.tgz | *.tar.Z) $tar -xzf "$src" ;;
        *.tar.bz2 | *.tbz2 | *.tbz) $tar -xjf "$src" ;;
        *.tar.xz | *.txz) $tar -xJf "$src" ;;
        *.tar.zst | *.tzst) $tar --zstd -xf "$src" ;;
        *.tar) $tar -xf "$src" ;;
        *.zip) unzip -q "$src" ;;
        *)
            # A fetched file is named by its hash: let tar detect the compression.
            $tar -xf "$src" || {
                echo "ndx: unpack: don't know how to unpack $src (set unpackPhase)" >&2
                return 1
            }
            ;;
    esac
}

default_unpackPhase() {
    runHook preUnpack
    local sources=${srcs:-${src-}}
    if [ -z "$sources" ]; then
        echo "ndx: unpack: the derivation has neither src nor srcs (set dontUnpack = true?)" >&2
        return 1
    fi
    local before after s
    before=$(ls -A)
    for s in $sources; do
        unpack_one "$s"
    done
    if [ -z "${sourceRoot-}" ]; then
        after=$(comm -13 <(echo "$before") <(ls -A))
        local dirs=()
        for s in $after; do
            [ -d "$s" ] && dirs+=("$s")
        done
        if [ "${#dirs[@]}" -ne 1 ]; then
            echo "ndx: unpack: expected one source directory, got ${#dirs[@]}: ${dirs[*]-} (set sourceRoot)" >&2
            return 1
        fi
        sourceRoot=${dirs[0]}
    fi
    # Sources from the store are read-only; the build writes into them.
    chmod -R u+w "$sourceRoot"
    cd "$sourceRoot"
    runHook postUnpack
}

# patch: apply each of $patches (plain or compressed) with $patchFlags (default -p1).
default_patchPhase() {
    runHook prePatch
    local p
    for p in ${patches-}; do
        echo "ndx: applying $p" >&2
        case "$p" in
            *.gz) gzip -dc "$p" ;;
            *.bz2) bzip2 -dc "$p" ;;
            *.xz) xz -dc "$p" ;;
            *) cat "$p" ;;
        esac | patch ${patchFlags:--p1} --no-backup-if-mismatch
    done
    runHook postPatch
}

# configure: run ./configure (or $configureScript) with --prefix=$out and $configureFlags,
# when there is one.
default_configurePhase() {
    runHook preConfigure
    local script=${configureScript:-./configure}
    if [ -x "$script" ] || [ -n "${configureScript-}" ]; then
        make_flags_array configureFlags
        local prefix_args=()
        [ -n "${dontAddPrefix-}" ] || prefix_args=("${prefixKey:---prefix=}${prefix:-$out}")
        echo "ndx: $script ${prefix_args[*]-} ${FLAGS_ARRAY[*]-}" >&2
        "$script" ${prefix_args[@]+"${prefix_args[@]}"} ${FLAGS_ARRAY[@]+"${FLAGS_ARRAY[@]}"}
    else
        echo "ndx: no configure script, doing nothing" >&2
    fi
    runHook postConfigure
}

make_jobs() {
    if [ -n "${enableParallelBuilding-}" ]; then
        echo "-j$NDX_BUILD_CORES"
    else
        echo "-j1"
    fi
}

has_makefile() {
    [ -n "${makefile-}" ] || [ -e Makefile ] || [ -e makefile ] || [ -e GNUmakefile ]
}

# build: make $makeFlags $buildFlags (in parallel when enableParallelBuilding).
default_buildPhase() {
    runHook preBuild
    if has_makefile; then
        make_flags_array makeFlags buildFlags
        make ${makefile:+-f "$makefile"} "$(make_jobs)" ${FLAGS_ARRAY[@]+"${FLAGS_ARRAY[@]}"}
    else
        echo "ndx: no Makefile, doing nothing" >&2
    fi
    runHook postBuild
}

# check: make $checkTarget (default "check"), only when doCheck is set.
default_checkPhase() {
    runHook preCheck
    make_flags_array makeFlags checkFlags
    make ${makefile:+-f "$makefile"} "$(make_jobs)" ${FLAGS_ARRAY[@]+"${FLAGS_ARRAY[@]}"} \
        ${checkTarget:-check}
    runHook postCheck
}

# install: make install $makeFlags $installFlags ($installTargets replaces "install").
default_installPhase() {
    runHook preInstall
    mkdir -p "$out"
    make_flags_array makeFlags installFlags
    make ${makefile:+-f "$makefile"} ${FLAGS_ARRAY[@]+"${FLAGS_ARRAY[@]}"} \
        ${installTargets:-install}
    runHook postInstall
}

# installCheck: make $installCheckTarget (default "installcheck"), only when doInstallCheck.
default_installCheckPhase() {
    runHook preInstallCheck
    make_flags_array makeFlags installCheckFlags
    make ${makefile:+-f "$makefile"} ${FLAGS_ARRAY[@]+"${FLAGS_ARRAY[@]}"} \
        ${installCheckTarget:-installcheck}
    runHook postInstallCheck
}

# ---------------------------------------------------------------------------------------
# Fixup: make the outputs fit for the store and for images.

# stripDirs OUTPUT: strip ELF files under the usual directories (dontStrip to keep symbols).
strip_output() {
    local dir=$1 f
    for f in $(find "$dir" \( -path "$dir/bin/*" -o -path "$dir/sbin/*" -o -path "$dir/libexec/*" \) -type f 2>/dev/null); do
        is_elf "$f" && strip --strip-all "$f" 2>/dev/null || true
    done
    for f in $(find "$dir/lib" -type f \( -name '*.so*' -o -name '*.a' \) 2>/dev/null); do
        is_elf "$f" && strip --strip-debug "$f" 2>/dev/null || true
    done
}

# patchShebangs DIR…: rewrite `#!/bin/sh`, `#!/usr/bin/env python3`, … in executable files
# to the interpreter's store path, looked up in the outputs and buildInputs only (never the
# host: a host path would not exist in an image). Interpreters already in the store are
# left alone; one that cannot be found is reported and left as it is.
patchShebangs() {
    local search f first interp args name found
    search=$(host_path)
    for f in $(find "$@" -type f -perm -0100 2>/dev/null); do
        head -c 2 "$f" 2>/dev/null | grep -q '^#!' || continue
        first=$(head -n 1 "$f")
        read -r interp args <<<"${first#\#!}" || true
        case "$interp" in
            "$storeDir"/*) continue ;;
            "") continue ;;
        esac
        if [ "$(basename "$interp")" = env ] && [ -n "$args" ]; then
            read -r name args <<<"$args" || true
        else
            name=$(basename "$interp")
        fi
        found=$(PATH="$search" command -v "$name" 2>/dev/null || true)
        if [ -z "$found" ] || [ "${found#"$storeDir"/}" = "$found" ]; then
            echo "ndx: patchShebangs: $f: no '$name' among the runtime inputs; left as '$first'" >&2
            continue
        fi
        echo "ndx: patchShebangs: $f: $interp -> $found" >&2
        local rest
        rest=$(tail -n +2 "$f"; echo x)
        rest=${rest%x}
        local mode
        mode=$(stat -c %a "$f")
        printf '#!%s%s\n%s' "$found" "${args:+ $args}" "$rest" > "$f.ndx-tmp"
        chmod "$mode" "$f.ndx-tmp"
        mv "$f.ndx-tmp" "$f"
    done
}

# remove_references OUTPUT: blank the hash of each store path in $removeReferencesTo (by
# default the nativeBuildInputs: build-only tools) wherever it appears in OUTPUT, so the
# runtime closure does not drag them in. The hash is replaced by as many 'e's (the same
# length, so binaries keep their layout).
remove_references() {
    local dir=$1 ref hash blank files
    for ref in ${removeReferencesTo-}; do
        case "$ref" in "$storeDir"/*) ;; *) continue ;; esac
        hash=${ref#"$storeDir"/}
        hash=${hash%%-*}
        [ -n "$hash" ] || continue
        blank=$(printf '%*s' "${#hash}" '' | tr ' ' e)
        files=$(grep -rlF "$hash" "$dir" 2>/dev/null || true)
        [ -n "$files" ] || continue
        echo "ndx: removing references to $ref" >&2
        local f
        for f in $files; do
            [ -L "$f" ] && continue
            sed -i "s|$hash|$blank|g" "$f"
        done
    done
}

# check_host_interpreters OUTPUT: refuse dynamically linked ELF files whose interpreter lies
# outside the store (linked against the host's C library): in an image they could not run.
check_host_interpreters() {
    local dir=$1 f interp bad=""
    [ -n "${allowHostInterpreter-}" ] && return 0
    for f in $(find "$dir" -type f -perm -0100 2>/dev/null); do
        is_elf "$f" || continue
        interp=$(readelf -l "$f" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
        [ -n "$interp" ] || continue
        case "$interp" in "$storeDir"/*) continue ;; esac
        bad="$bad  ${f#"$dir"/} needs $interp\n"
    done
    if [ -n "$bad" ]; then
        printf 'ndx: fixup: dynamically linked against the host (link statically, or set allowHostInterpreter = true):\n%b' "$bad" >&2
        return 1
    fi
}

default_fixupPhase() {
    runHook preFixup
    local o dir
    for o in ${outputs:-out}; do
        dir=${!o-}
        [ -n "$dir" ] && [ -e "$dir" ] || continue
        # Outputs are read-only once registered; make them consistently writable here.
        chmod -R u+w "$dir" 2>/dev/null || true
        [ -n "${dontStrip-}" ] || strip_output "$dir"
        [ -n "${dontPatchShebangs-}" ] || patchShebangs "$dir"
        remove_references "$dir"
        check_host_interpreters "$dir"
    done
    runHook postFixup
}

# ---------------------------------------------------------------------------------------
# The whole build

genericBuild() {
    setup_environment
    if [ -n "${buildCommand-}" ]; then
        eval "$buildCommand"
        return 0
    fi
    local phase
    cd "${NDX_BUILD_TOP:-$PWD}"
    for phase in ${prePhases-} ${phases:-unpackPhase patchPhase configurePhase buildPhase checkPhase installPhase fixupPhase installCheckPhase} ${postPhases-}; do
        case "$phase" in
            *Phase) runPhase "$phase" ;;
            *) eval "${!phase-$phase}" ;;
        esac
    done
}
