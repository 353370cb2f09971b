#!/usr/bin/env python3
"""Benchmark of the foundation: dummy `generate` (100k users, 10k groups, 1M memberships)
into SQLite through the sql plugin (.so), with the release build.

Prints, for each repetition and as medians: the initial sync's wall time and peak RSS, and
the no-op re-sync's (everything re-sent, nothing changed) wall time and peak RSS.

    scripts/bench-dummy.py [--runs 3] [--users 100000] [--groups 10000] [--memberships 1000000]

Targets on the 2-core reference machine: initial <= 10 s, no-op <= 3 s, peak RSS <= 400 MB.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """
[source]
type = "dummy"

[source.generate]
users = {users}
groups = {groups}
memberships = {memberships}
nested = 10
seed = 42

[sink]
plugin = "sql"
url = "sqlite://{db}"
create_tables = true

[sink.users]
table = "users"
key = "id"
disable = {{ column = "active", disabled_value = "0", enabled_value = "1" }}

[sink.users.columns]
username = "name"
display_name = "displayName"
email = "mail"
given_name = "givenName"
surname = "surname"
uid_number = "uidNumber"

[sink.groups]
table = "groups"
key = "id"

[sink.groups.columns]
name = "name"
description = "description"

[sink.memberships]
table = "group_members"
group = "group_id"
member = "user_id"
mode = "effective"
"""


def run_measured(cmd, env):
    """Runs cmd; returns (wall seconds, peak RSS in MB of that child)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, rusage = os.wait4(proc.pid, 0)[1:]
    wall = time.monotonic() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    status = proc.returncode if proc.returncode is not None else 0
    if rusage is None:
        raise SystemExit("no rusage")
    rss_mb = rusage.ru_maxrss / 1024.0
    return wall, rss_mb, stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--memberships", type=int, default=1_000_000)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()

    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-p", "idsync", "-p", "idsync-sink-sql"],
            cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "idsync")
    env = dict(os.environ)
    env["IDSYNC_PLUGIN_PATH"] = os.path.join(ROOT, "target", "release")
    env["RUST_LOG"] = "warn"

    initial, noop, rss_initial, rss_noop = [], [], [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="idsync-bench-") as work:
            db = os.path.join(work, "bench.db")
            config = os.path.join(work, "bench.toml")
            with open(config, "w") as f:
                f.write(CONFIG.format(users=args.users, groups=args.groups,
                                      memberships=args.memberships, db=db))
            cmd = [binary, "sync", "--once", "--config", config]
            wall, rss, err = run_measured(cmd, env)
            check_rows(db, args)
            initial.append(wall); rss_initial.append(rss)
            wall2, rss2, err2 = run_measured(cmd, env)
            noop.append(wall2); rss_noop.append(rss2)
            print(f"run {run + 1}: initial {wall:.2f} s (peak RSS {rss:.0f} MB), "
                  f"no-op re-sync {wall2:.2f} s (peak RSS {rss2:.0f} MB)", flush=True)
    print(f"median initial sync: {statistics.median(initial):.2f} s (target <= 10 s)")
    print(f"median no-op re-sync: {statistics.median(noop):.2f} s (target <= 3 s)")
    print(f"peak RSS: initial {max(rss_initial):.0f} MB, no-op {max(rss_noop):.0f} MB (target <= 400 MB)")


def check_rows(db, args):
    out = subprocess.run(
        ["sqlite3", db, "select (select count(*) from users), (select count(*) from groups), "
         "(select count(*) from group_members)"],
        capture_output=True, text=True)
    if out.returncode != 0:
        print(f"warning: cannot count rows: {out.stderr.strip()}", file=sys.stderr)
        return
    users, groups, members = (int(x) for x in out.stdout.strip().split("|"))
    if users != args.users or groups != args.groups or members < args.memberships:
        raise SystemExit(f"unexpected row counts: users={users} groups={groups} memberships={members}")


if __name__ == "__main__":
    main()
