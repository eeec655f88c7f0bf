# link_tree SRC DEST: mirror SRC's tree into DEST as real directories and symlinks to SRC's
# files (symlinkJoin, buildEnv). An entry DEST already has is kept; when it points
# elsewhere and the content differs, that is a collision: an error, or a warning when
# $ignoreCollisions is set. Sourced by the builders of symlinkJoin and buildEnv.
link_tree() {
    local src=$1 dest=$2 rel target
    [ -d "$src" ] || return 0
    mkdir -p "$dest"
    while IFS= read -r -d '' rel; do
        rel=${rel#./}
        target="$src/$rel"
        if [ -d "$target" ] && [ ! -L "$target" ]; then
            mkdir -p "$dest/$rel"
        elif [ -e "$dest/$rel" ] || [ -L "$dest/$rel" ]; then
            if [ "$(readlink -f "$dest/$rel")" != "$(readlink -f "$target")" ] \
                && ! cmp -s "$dest/$rel" "$target"; then
                if [ -n "${ignoreCollisions-}" ]; then
                    echo "link_tree: collision on /$rel: keeping $(readlink "$dest/$rel"), ignoring $target" >&2
                else
                    echo "link_tree: collision on /$rel between $(readlink "$dest/$rel") and $target (set ignoreCollisions to keep the first)" >&2
                    return 1
                fi
            fi
        else
            ln -s "$target" "$dest/$rel"
        fi
    done < <(cd "$src" && find . -mindepth 1 -print0 | sort -z)
}
