#!/usr/bin/env python3
"""Failover under load (issue 21, item 5): a 3-node o3storage cluster serves 64 clients writing 4 KiB
objects without pause while the benchmark
  - watches a window with no fault: every Raft term change in it is a spurious election (the leader was
    alive, a follower stopped hearing it in time), and
  - kills the leader with SIGKILL ROUNDS times: the time from the kill to a survivor naming another leader,
    then restarts the killed node and waits until all three are active again;
  - freezes the leader with SIGSTOP FREEZES times, the same way: a process that stops answering without
    closing its connections, as a board that hangs or loses power does (a killed process's kernel
    refuses at once).
With --baseline BINARY a second cluster runs that binary (127.0.83.x); the two take turns, one load at a
time, so both see the same machine. The load's failed requests are counted too: most are the killed node's
own refusals, the rest are what a client saw from the survivors.

Every loop is bounded; every process started here is killed at exit.
Usage: bench/failover_bench.py [--rounds 10] [--freezes 5] [--quiet-seconds 60] [--turns 2] [--baseline BINARY]
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402
import object_bench  # noqa: E402
import race  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "failover")
CLIENTS = 64
LOAD_SLICE_S = 5  # the load runs in slices so it can stop between them; a slice's errors are summed


class Load:
    """64 clients writing 4 KiB objects in back-to-back slices until stopped."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.stopping = threading.Event()
        self.ops = 0
        self.errors = 0
        self.first_error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            try:
                result = object_bench.load("o3", self.cluster.endpoints(), "put", 4096, CLIENTS, 10_000, LOAD_SLICE_S, allow_errors=True)
            except subprocess.SubprocessError as e:
                self.errors += 1
                self.first_error = self.first_error or str(e)
                continue
            self.ops += result["ops"]
            self.errors += result["errors"]
            self.first_error = self.first_error or result["first_error"]

    def __enter__(self):
        self.thread.start()
        time.sleep(2)  # the first slice is under way
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join(LOAD_SLICE_S + 620)


def terms(cluster):
    """Each answering node's Raft term (from /health)."""
    found = []
    for ip in cluster.ips:
        status, body = cluster_bench.http(f"http://{ip}:8080/health", timeout=2.0)
        if status in (200, 503) and body:
            found.append(json.loads(body)["cluster"]["term"])
    return found


def highest_term(cluster):
    """The highest term any node reports; waits for an answer (a loaded node may answer late)."""
    return cluster_bench.wait_for("a node's term", lambda: max(terms(cluster), default=None), timeout=60)


def quiet_window(cluster, seconds):
    """Term changes while the load runs and nothing fails: spurious elections."""
    before = highest_term(cluster)
    time.sleep(seconds)
    return highest_term(cluster) - before


def kills(cluster, rounds, sig=signal.SIGKILL):
    samples = []
    for _ in range(rounds):
        old = cluster_bench.wait_for("a leader", lambda: cluster.leader((0, 1, 2)))
        survivors = [i for i in (0, 1, 2) if i != old]
        cluster.procs[old].send_signal(sig)
        killed_at = time.monotonic()

        def new_leader():
            leader = cluster.leader(survivors)
            return leader is not None and leader != old
        cluster_bench.wait_for("a new leader", new_leader, interval=0.001)
        samples.append((time.monotonic() - killed_at) * 1000)
        cluster_bench.kill(cluster.procs[old])  # a frozen one too (SIGKILL ends a stopped process)
        cluster.procs[old] = cluster_bench.spawn(cluster.args(old), cluster.log)
        cluster_bench.wait_for("3 active nodes again", lambda: full(cluster), timeout=120, interval=0.2)
        time.sleep(1.0)
    return samples


def full(cluster):
    for ip in cluster.ips:
        status, body = cluster_bench.http(f"http://{ip}:8080/health", timeout=2.0)
        if status != 200 or json.loads(body)["cluster"]["active_nodes"] != 3:
            return False
    return True


def turn(name, cluster, rounds, freezes, quiet_seconds):
    with Load(cluster) as load:
        spurious = quiet_window(cluster, quiet_seconds)
        samples = kills(cluster, rounds)
        frozen = kills(cluster, freezes, signal.SIGSTOP)
    print(f"{name}: {spurious} spurious elections in {quiet_seconds} s, failover ms {', '.join(f'{s:.0f}' for s in samples)}, "
          f"frozen leader ms {', '.join(f'{s:.0f}' for s in frozen)}; load {load.ops} PUTs, {load.errors} failed (first: {load.first_error})", flush=True)
    return {"spurious": spurious, "failover": samples, "frozen": frozen, "ops": load.ops, "errors": load.errors}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--freezes", type=int, default=5)
    parser.add_argument("--quiet-seconds", type=int, default=60)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--baseline", help="another o3storage binary to measure side by side")
    options = parser.parse_args()
    if not os.path.exists(cluster_bench.O3):
        sys.exit(f"missing {cluster_bench.O3}: run make publish")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])
    os.makedirs(os.path.join(WORK, "tree"))
    systems = {"o3storage": object_bench.O3Objects(os.path.join(WORK, "tree"))}
    if options.baseline:
        systems["baseline"] = object_bench.O3Baseline(os.path.join(WORK, "baseline"), options.baseline)
    for cluster in systems.values():
        cluster.form()
        subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{cluster.ips[0]}:8080/bench"], check=True, capture_output=True)
    results = {name: [] for name in systems}
    for _ in range(options.turns):
        for name, cluster in systems.items():
            results[name].append(turn(name, cluster, options.rounds, options.freezes, options.quiet_seconds))
    for cluster in systems.values():
        cluster.stop()

    print(f"\n| failover under a {CLIENTS}-client 4 KiB PUT load ({options.turns} turns of {options.rounds} kills) | " + " | ".join(systems) + " |")
    print("| --- | " + " | ".join("---" for _ in systems) + " |")

    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(results[name]) for name in systems) + " |")
    row("kill -9 leader to new leader, median ms", lambda r: f"{statistics.median([s for t in r for s in t['failover']]):.0f}")
    row("kill -9 leader to new leader, p90 ms", lambda r: f"{statistics.quantiles([s for t in r for s in t['failover']], n=10)[-1]:.0f}")
    row("kill -9 leader to new leader, max ms", lambda r: f"{max(s for t in r for s in t['failover']):.0f}")
    if options.freezes:
        row("SIGSTOP leader to new leader, median ms", lambda r: f"{statistics.median([s for t in r for s in t['frozen']]):.0f}")
        row("SIGSTOP leader to new leader, max ms", lambda r: f"{max(s for t in r for s in t['frozen']):.0f}")
    row(f"spurious elections ({options.turns} × {options.quiet_seconds} s of load, no fault)", lambda r: f"{sum(t['spurious'] for t in r)}")
    row("PUTs completed / failed during the turns", lambda r: f"{sum(t['ops'] for t in r)} / {sum(t['errors'] for t in r)}")
    tree = results["o3storage"]
    race.record("failover", {"kill_median_ms": statistics.median([s for t in tree for s in t["failover"]]),
                             "frozen_median_ms": statistics.median([s for t in tree for s in t["frozen"]]) if options.freezes else None,
                             "spurious": sum(t["spurious"] for t in tree)})


if __name__ == "__main__":
    main()
