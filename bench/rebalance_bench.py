#!/usr/bin/env python3
"""Rebalance benchmark (issue 15), side by side in one run on this machine, loopback only.

A 3-node cluster holds LARGE_OBJECTS objects of 16 MiB (three replicas each) and 2000 4 KiB objects;
nodes 4 and 5 join, and the leader moves two fifths of the replicas to them. Measured:
  - rebalance bandwidth: bytes the pass moved (from /admin/rebalance-status) over its duration, against
    fio sequential write (direct=1, bs=1M) on the same disk divided by 3 (three replicas share this one
    disk, as in the object benchmark). Goal: at least 0.5.
  - 4 KiB GET throughput (16 clients over the first three nodes) while the pass runs, against the same
    load on the idle cluster just before. Goal: at least 0.7.
Each round uses a fresh cluster; rounds run once unpaced (--rebalance-rate 0) and once at the default
rate. Every process started here is stopped at exit. Usage: bench/rebalance_bench.py [--rounds N]
"""
import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402
from storage_bench import fio, make_device  # noqa: E402
from object_bench import load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "rebalance")
MIB = 1024 * 1024
LARGE_OBJECTS = 40
SMALL_OBJECTS = 2000
GET_SECONDS = 6
IPS = [f"127.0.82.{n}" for n in range(1, 6)]


def start(i, rate, log):
    args = [cluster_bench.O3, "--ip", IPS[i], "--port", "8080", "--data", os.path.join(WORK, f"n{i}"),
            "--device-size", "3G", "--log-level", "warning", "--rebalance-rate", rate]
    args += ["--bootstrap"] if i == 0 else ["--peers", IPS[0]]
    args += ["--join-token-file", cluster_bench.join_token_file(WORK)]
    return cluster_bench.spawn(args, log)


def health(i):
    status, body = cluster_bench.http(f"http://{IPS[i]}:8080/health", timeout=1)
    return json.loads(body) if status == 200 else None


def status():
    _, body = cluster_bench.http(f"http://{IPS[0]}:8080/admin/rebalance-status", timeout=5)
    return json.loads(body)


def endpoints(n):
    return ",".join(f"http://{ip}:8080" for ip in IPS[:n])


def one_round(rate, log):
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    procs = [start(0, rate, log)]
    cluster_bench.wait_for("bootstrap", lambda: health(0))
    procs += [start(i, rate, log) for i in (1, 2)]
    cluster_bench.wait_for("3 nodes", lambda: all((h := health(i)) and h["cluster"]["active_nodes"] == 3 for i in range(3)), timeout=60)
    for bucket in ("bench", "small"):
        subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{IPS[0]}:8080/{bucket}"], check=True, capture_output=True)
    load("o3", endpoints(3), "put", 16 * MIB, 4, LARGE_OBJECTS, 600, once=True)
    subprocess.run(["dotnet", os.path.join(ROOT, "bench", "LoadGen", "bin", "Release", "net10.0", "o3-loadgen.dll"), "--target", "o3", "--endpoints", endpoints(3),
                    "--op", "put", "--size", "4096", "--clients", "16", "--keys", str(SMALL_OBJECTS), "--seconds", "600", "--once", "1", "--bucket", "small"],
                   check=True, capture_output=True, timeout=600)
    idle = small_gets()

    procs += [start(i, rate, log) for i in (3, 4)]
    cluster_bench.wait_for("a pass starts", lambda: status()["state"] == "running", timeout=60, interval=0.05)
    during = small_gets()
    still_running = status()["state"] == "running"
    cluster_bench.wait_for("the pass is done", lambda: status()["state"] == "done", timeout=600, interval=0.2)
    final = status()
    seconds = (datetime.fromisoformat(final["finished_at"]) - datetime.fromisoformat(final["started_at"])).total_seconds()
    for p in procs:
        cluster_bench.kill(p)
    return {"moved_mib": final["bytes_moved"] / MIB, "objects_moved": final["objects_moved"], "seconds": seconds,
            "mib_per_s": final["bytes_moved"] / MIB / seconds, "get_idle": idle, "get_during": during, "gets_overlapped": still_running,
            "counts": [n["objects"] for n in final["nodes"]]}


def small_gets():
    out = subprocess.run(["dotnet", os.path.join(ROOT, "bench", "LoadGen", "bin", "Release", "net10.0", "o3-loadgen.dll"), "--target", "o3", "--endpoints", endpoints(3),
                          "--op", "get", "--size", "4096", "--clients", "16", "--keys", str(SMALL_OBJECTS), "--seconds", str(GET_SECONDS), "--bucket", "small"],
                         check=True, capture_output=True, text=True, timeout=600).stdout
    result = json.loads(out)
    if result["errors"]:
        raise RuntimeError(f"GET errors: {result['errors']}, first: {result['first_error']}")
    return result["ops_per_s"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])
    os.makedirs(WORK, exist_ok=True)
    log = open(os.path.join(os.path.dirname(WORK), "rebalance.log"), "ab")
    print(f"rebalance benchmark: 3 -> 5 nodes on 127.0.82.x, {LARGE_OBJECTS} x 16 MiB + {SMALL_OBJECTS} x 4 KiB, {options.rounds} rounds per rate", flush=True)
    results = {"0": [], "32M": []}
    fio_runs = []
    for _ in range(options.rounds):
        for rate in results:
            results[rate].append(one_round(rate, log))
            print(f"  rate {rate}: {json.dumps(results[rate][-1])}", flush=True)
        path = os.path.join(os.path.dirname(WORK), "fio.dat")
        make_device(path, 1024 * MIB)
        fio_runs.append(fio("seqw", path, "write", "1M", 1024 * MIB)["bytes_per_s"] / MIB)
        os.remove(path)
    fio_write = statistics.median(fio_runs)
    print(f"\nfio sequential write on the same disk: {fio_write:.0f} MiB/s (fio/3 = {fio_write / 3:.0f})")
    print(f"{'--rebalance-rate':18}{'moved MiB/s':>12}{'/ (fio/3)':>10}{'GET idle':>10}{'GET during':>11}{'ratio':>7}")
    for rate, runs in results.items():
        mibs = statistics.median(r["mib_per_s"] for r in runs)
        idle = statistics.median(r["get_idle"] for r in runs)
        during = statistics.median(r["get_during"] for r in runs)
        print(f"{rate:18}{mibs:12.0f}{mibs / (fio_write / 3):10.2f}{idle:10.0f}{during:11.0f}{during / idle:7.2f}")
    print("\nruns: " + json.dumps({"fio_write": fio_runs, **results}))


if __name__ == "__main__":
    main()
