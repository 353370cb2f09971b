#!/bin/sh
# Benchmark of the MediaWiki sink (issue 4): a private slapd holding 100k users and 10k groups
# (~1M memberships) synced into MediaWiki 1.39 installed by its own installer, on SQLite and
# on a private MariaDB, with the release build.
#
#   scripts/bench-mediawiki.sh [--backends sqlite,mariadb] [--runs 3] [--users 100000]
#                              [--max-members 160] [--modifies 1000] [--keep DIR]
#                              [--all-groups]
#
# Groups: by default a wiki's usual configuration, five directory groups (one nested, one
# holding every user) mapped to four wiki groups (~100k user_groups rows). --all-groups: the
# worst case, map_other_groups = true (all 10k directory groups, ~1M user_groups rows).
# The configuration that ran is printed with the figures.
#
# Prints, per backend: the initial `idsync sync --once` on a fresh wiki, the no-op re-sync,
# the persist latency (modify answered → user_real_name committed, p50/p90/p99/max), the
# restart with the cookie after 10 changes, peak RSS and the load average. Targets on the
# 2-core reference machine: initial <= 3 s on SQLite, <= 10 s on MariaDB; persist p99 <= 10 ms.
# NO_BUILD=1 skips the build; CARGO_TARGET_DIR is respected.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -p idsync -p idsync-sink-mediawiki -p idsync-bench)
fi
exec "$TARGET/release/idsync-bench" mediawiki \
    --idsync "$TARGET/release/idsync" --plugins "$TARGET/release" "$@"
