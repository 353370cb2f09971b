#!/usr/bin/env bash
# The quickstart in ONE command: builds the runner and the sql plugin, then syncs
# examples/directory.yaml into ./quickstart.db and keeps following edits until Ctrl-C.
# Extra arguments go to `idsync sync` (for example --once or --dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p idsync -p idsync-sink-sql
exec target/release/idsync sync --config examples/quickstart.toml "$@"
