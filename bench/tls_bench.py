#!/usr/bin/env python3
"""The cost of TLS, side by side in one run on this machine, loopback only (issue 18).

Three ways to run the same 3-node cluster and the same load (bench/LoadGen):
  - plain:       a build from before node-to-node TLS (--baseline, bench/tls_bench.sh builds it): nodes
                 talk Raft and HTTP in clear, clients use HTTP;
  - peer TLS:    this tree: nodes talk over mutual TLS (the cluster's own CA), clients use HTTP;
  - all TLS:     this tree, clients use HTTPS too (checked against the cluster CA).
Measured: 4 KiB PUT (64 clients, 10 s) and 64 MiB PUT and GET (4 clients). Rounds alternate between the
three and medians are reported, with ratios to plain. Every process started here is stopped at exit.
Usage: bench/tls_bench.py --baseline BINARY [--rounds N]
"""
import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402
from object_bench import O3Objects, O3Baseline, load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "tls")
MIB = 1024 * 1024
LARGE_OBJECTS = 6
LARGE_CLIENTS = 4


def run(system, https, op, size, clients, keys, seconds, once=False):
    cluster, ca = system
    endpoints = cluster.endpoints().replace("http://", "https://") if https else cluster.endpoints()
    extra = ["--ca", ca] if https else []
    return load("o3", endpoints, op, size, clients, keys, seconds, once, extra)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", required=True, help="an o3storage from before node-to-node TLS")
    options = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])

    tls = O3Objects(WORK)
    plain = O3Baseline(os.path.join(WORK, "plain"), options.baseline)
    for cluster in (tls, plain):
        cluster.form()
        subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{cluster.ips[0]}:8080/bench"], check=True, capture_output=True)
    ca = os.path.join(WORK, "n0", "certs", "ca-cert.pem")
    mode = json.loads(cluster_bench.http(f"http://{tls.ips[1]}:8080/health", timeout=2)[1])["auth"]["peer_tls"]["mode"]
    if mode != "mutual":
        sys.exit(f"the TLS cluster does not run mutual TLS (peer_tls mode {mode})")
    ways = {"plain": ((plain, None), False), "peer TLS": ((tls, ca), False), "all TLS": ((tls, ca), True)}

    small = {name: [] for name in ways}
    large = {(name, op): [] for name in ways for op in ("put", "get")}
    print(f"TLS benchmark: 3-node clusters, {options.rounds} rounds, medians", flush=True)
    for _ in range(options.rounds):
        for name, (system, https) in ways.items():
            small[name].append(run(system, https, "put", 4096, 64, 10_000, 10))
        for name, (system, https) in ways.items():
            for op in ("put", "get"):
                large[(name, op)].append(run(system, https, op, 64 * MIB, LARGE_CLIENTS, LARGE_OBJECTS, 600, once=True)["mib_per_s"])

    print("\n4 KiB PUT, 64 clients over 3 nodes, 10 s per run")
    print(f"{'':12}{'ops/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ops ratio':>11}")
    base = statistics.median(r["ops_per_s"] for r in small["plain"])
    for name in ways:
        ops = statistics.median(r["ops_per_s"] for r in small[name])
        print(f"{name:12}{ops:10.0f}{statistics.median(r['p50_ms'] for r in small[name]):10.1f}{statistics.median(r['p99_ms'] for r in small[name]):10.1f}{ops / base:11.2f}")
    print(f"\n64 MiB objects ({LARGE_OBJECTS} per run, {LARGE_CLIENTS} clients), MiB/s")
    print(f"{'':12}{'PUT':>10}{'GET':>10}{'PUT ratio':>11}{'GET ratio':>11}")
    for name in ways:
        put = statistics.median(large[(name, "put")])
        get = statistics.median(large[(name, "get")])
        print(f"{name:12}{put:10.0f}{get:10.0f}{put / statistics.median(large[('plain', 'put')]):11.2f}{get / statistics.median(large[('plain', 'get')]):11.2f}")
    for cluster in (tls, plain):
        cluster.stop()


if __name__ == "__main__":
    main()
