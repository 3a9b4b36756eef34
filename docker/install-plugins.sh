#!/bin/sh
# Install moltbot-core plus only the plugins named in $1 (comma or space separated), from the
# source tree in $2 (default /src). Used by the Dockerfile's PLUGINS build argument; an unknown
# plugin name fails the build instead of silently producing an image without it.
set -eu
plugins="${1:-}"
src="${2:-/src}"
targets="$src/core"
for name in $(printf '%s' "$plugins" | tr ',' ' '); do
    dir=""
    for candidate in "$src"/plugins/*/"$name"; do
        if [ -f "$candidate/pyproject.toml" ]; then dir="$candidate"; fi
    done
    if [ -z "$dir" ]; then
        echo "install-plugins: no plugin named '$name' under $src/plugins/<kind>/" >&2
        exit 1
    fi
    targets="$targets $dir"
done
echo "install-plugins: installing $targets"
# shellcheck disable=SC2086 # word splitting of the target list is intended
pip install --no-cache-dir $targets
