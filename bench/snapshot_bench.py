#!/usr/bin/env python3
"""Snapshot and restore benchmark (issue 17), on this machine, loopback only.

A 3-node cluster holds OBJECTS objects of 1 KiB (three replicas each). Measured, ROUNDS times each:
  - the time of POST /admin/snapshot (one committed command: nothing is copied);
  - after CHANGED new objects are written, the time of POST /admin/restore (one committed command
    that makes the snapshot's buckets current on every node: O(objects) work in each apply loop);
  - 4 KiB GET throughput and p99 latency (16 clients over the three nodes) idle, and while restores
    run back to back ("force": true, each one a full restore): the worst case a restore puts on
    foreground requests.
Every process started here is stopped at exit. Usage: bench/snapshot_bench.py [--objects N] [--rounds N]
"""
import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "snapshot")
LOADGEN = os.path.join(ROOT, "bench", "LoadGen", "bin", "Release", "net10.0", "o3-loadgen.dll")
IPS = [f"127.0.83.{n}" for n in range(1, 4)]
ENDPOINTS = ",".join(f"http://{ip}:8080" for ip in IPS)
CHANGED = 10_000
SMALL = 2000
GET_SECONDS = 8


def start(i, log):
    args = [cluster_bench.O3, "--ip", IPS[i], "--port", "8080", "--data", os.path.join(WORK, f"n{i}"),
            "--device-size", "2G", "--log-level", "warning"]
    args += ["--bootstrap"] if i == 0 else ["--peers", IPS[0]]
    args += ["--join-token-file", cluster_bench.join_token_file(WORK)]
    return cluster_bench.spawn(args, log)


def health(i):
    status, body = cluster_bench.http(f"http://{IPS[i]}:8080/health", timeout=2)
    return json.loads(body) if status == 200 else None


def admin(path, body):
    started = time.monotonic()
    out = subprocess.run(["curl", "-s", "--max-time", "120", "-X", "POST", f"http://{IPS[0]}:8080{path}", "-d", json.dumps(body)],
                         check=True, capture_output=True, text=True).stdout
    seconds = time.monotonic() - started
    answer = json.loads(out)
    if "error" in answer:
        raise RuntimeError(f"{path}: {answer}")
    return seconds, answer


def loadgen(op, bucket, keys, size, seconds=600, once=False, prefix=None):
    args = ["dotnet", LOADGEN, "--target", "o3", "--endpoints", ENDPOINTS, "--op", op, "--size", str(size), "--clients", "32" if once else "16",
            "--keys", str(keys), "--seconds", str(seconds), "--bucket", bucket]
    if once:
        args += ["--once", "1"]
    result = json.loads(subprocess.run(args, check=True, capture_output=True, text=True, timeout=1800).stdout)
    if result["errors"]:
        raise RuntimeError(f"{op} {bucket}: {result['errors']} errors, first: {result['first_error']}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    log = open(os.path.join(os.path.dirname(WORK), "snapshot.log"), "ab")
    print(f"snapshot benchmark: 3 nodes on 127.0.83.x, {options.objects} x 1 KiB objects, {options.rounds} rounds", flush=True)
    start(0, log)
    cluster_bench.wait_for("bootstrap", lambda: health(0))
    start(1, log)
    start(2, log)
    cluster_bench.wait_for("3 nodes", lambda: all((h := health(i)) and h["cluster"]["active_nodes"] == 3 for i in range(3)), timeout=60)
    for bucket in ("bench", "small", "after"):
        subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{IPS[0]}:8080/{bucket}"], check=True, capture_output=True)
    filled = loadgen("put", "bench", options.objects, 1024, once=True)
    loadgen("put", "small", SMALL, 4096, once=True)
    print(f"  filled: {filled['ops']} objects at {filled['ops_per_s']:.0f} PUT/s", flush=True)

    snapshots, restores = [], []
    for r in range(options.rounds):
        seconds, made = admin("/admin/snapshot", {"name": f"bench-{r}"})
        snapshots.append(seconds)
        # New objects after the snapshot: the restore takes them away again.
        subprocess.run(["dotnet", LOADGEN, "--target", "o3", "--endpoints", ENDPOINTS, "--op", "put", "--size", "1024", "--clients", "32",
                        "--keys", str(CHANGED), "--seconds", "600", "--once", "1", "--bucket", "after"], check=True, capture_output=True, timeout=1800)
        seconds, restored = admin("/admin/restore", {"snapshot": f"bench-{r}", "force": True})
        restores.append(seconds)
        print(f"  round {r + 1}: snapshot of {made['snapshot']['objects']} objects {snapshots[-1] * 1000:.0f} ms, restore {restores[-1] * 1000:.0f} ms ({restored['status']})", flush=True)

    idle = loadgen("get", "small", SMALL, 4096, seconds=GET_SECONDS)
    stop = threading.Event()
    during_restores = []

    def restore_loop():
        while not stop.is_set():
            during_restores.append(admin("/admin/restore", {"snapshot": "bench-0", "force": True})[0])

    worker = threading.Thread(target=restore_loop)
    worker.start()
    try:
        during = loadgen("get", "small", SMALL, 4096, seconds=GET_SECONDS)
    finally:
        stop.set()
        worker.join()

    print(f"\n{'':34}{'median':>10}{'max':>10}")
    print(f"{'snapshot (POST /admin/snapshot)':34}{statistics.median(snapshots) * 1000:9.0f}ms{max(snapshots) * 1000:9.0f}ms")
    print(f"{'restore (POST /admin/restore)':34}{statistics.median(restores) * 1000:9.0f}ms{max(restores) * 1000:9.0f}ms")
    print(f"\n4 KiB GET, 16 clients: idle {idle['ops_per_s']:.0f}/s (p99 {idle['p99_ms']:.1f} ms); during {len(during_restores)} back-to-back restores "
          f"{during['ops_per_s']:.0f}/s (p99 {during['p99_ms']:.1f} ms), ratio {during['ops_per_s'] / idle['ops_per_s']:.2f}")
    print("\nruns: " + json.dumps({"snapshots_s": snapshots, "restores_s": restores, "restores_during_s": during_restores, "get_idle": idle, "get_during": during}))


if __name__ == "__main__":
    main()
