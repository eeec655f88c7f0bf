#!/bin/sh
# The Quick start's example: build the redis 7.0.15 image of examples/redis-generic.ndx
# from source (the tarball comes from the offline source mirror that ./dev.sh setup fills,
# or from upstream), then say how to run it. Extra arguments go to ndx-build.
set -eu
cd "$(dirname "$0")/.."
export NDX_HASHED_MIRRORS="${NDX_HASHED_MIRRORS:-file://$(pwd)/.cache/mirror}"
.venv/bin/ndx-build examples/redis-generic.ndx -A redisDocker_7_0_15 "$@"
echo "example: the image is ./result; load and run it with:"
echo "  docker load < result && docker run -d --name redis redis:7.0.15"
echo "  docker exec redis redis-cli ping"
