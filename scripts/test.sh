#!/usr/bin/env bash
# THE test command: installs what the tests need, builds everything (the runner, every
# plugin, the test plugins), then runs every test. Servers the tests need are started by the
# tests themselves (idsync-testkit), in temp dirs on loopback ports.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -E 'test(e2e)'  # extra arguments go to cargo nextest (or cargo test)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --tests

# The integration tests run the real binary and load the real plugin .so files.
cargo build --workspace --all-targets --locked

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    cargo test --workspace --locked --no-fail-fast "$@"
fi
