#!/bin/sh
# Benchmark of the LDAP source (issue 3): a private slapd holding 100k users and 10k groups
# (~1M memberships) synced into SQLite through the sql plugin, with the release build.
#
#   scripts/bench-ldap.sh [--runs 3] [--users 100000] [--max-members 160] [--modifies 1000]
#                         [--restart-changes 10] [--poll-us 100] [--keep DIR]
#
# Prints the read floor (ldapsearch -E sync=ro of the same entries), the initial
# `idsync sync --once` (and its ratio to the floor), the no-op re-sync, the persist latency
# (modify answered → row committed, p50/p90/p99/max), the restart with the cookie after 10
# changes, peak RSS and the load average. Targets on the 2-core reference machine:
# initial <= 3x the floor; persist p50 <= 3 ms, p99 <= 10 ms; restart <= 2 s.
# The follower and the restarts run with `[runner] state_dir` (the member-index snapshot
# replaces the warm-up; each restart line says whether it was used);
# IDSYNC_BENCH_STATE_DIR=0 measures the restarts with the warm-up instead.
# NO_BUILD=1 skips the build; CARGO_TARGET_DIR is respected.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -p idsync -p idsync-sink-sql -p idsync-bench)
fi
exec "$TARGET/release/idsync-bench" ldap \
    --idsync "$TARGET/release/idsync" --plugins "$TARGET/release" "$@"
