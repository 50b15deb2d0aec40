#!/usr/bin/env python3
"""Object API benchmark, side by side in one run on this machine, loopback only.

  - 4 KiB PUT and GET throughput and p50/p99 latency, 64 concurrent clients spread over the three
    nodes, on a 3-node o3storage cluster and a 3-node etcd cluster (Debian etcd-server, values of the
    same size through its HTTP gateway); the same load generator (bench/LoadGen) drives both.
  - 64 MiB PUT and GET throughput (4 clients) on the 3-node cluster against fio on the same disk (direct=1,
    bs=1M sequential write and read of a file as large as the objects written). The cluster's three
    replicas share this one disk, so the PUT goal is 80 % of fio's write bandwidth divided by 3.

Rounds alternate between the systems and medians are reported. Every process started here is
stopped at exit; every load is bounded in time or count.

With --baseline BINARY a second 3-node o3storage cluster runs that binary (127.0.83.x) and joins the
alternation, so a change is measured against the code before it in one run (bench/durability_bench.sh
builds the binary from a git revision). --small-only skips the 64 MiB part, --large-only the 4 KiB part.
Usage: bench/object_bench.py [--rounds N] [--baseline BINARY] [--small-only | --large-only]
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402  (the cluster starters and helpers the node benchmark uses)
import race  # noqa: E402
from storage_bench import fio, make_device  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOADGEN = os.path.join(ROOT, "bench", "LoadGen", "bin", "Release", "net10.0", "o3-loadgen.dll")
WORK = os.path.join(ROOT, ".bench", "objects")  # the repository's disk: where fio runs too
MIB = 1024 * 1024
SMALL_SECONDS = 10
LARGE_OBJECTS = 12
LARGE_CLIENTS = 4


class O3Objects(cluster_bench.O3Cluster):
    """The node benchmark's 3-node cluster, with devices large enough for the 64 MiB objects."""

    def args(self, i):
        return super().args(i) + ["--device-size", "3G", "--log-level", "warning"]

    def endpoints(self):
        return ",".join(f"http://{ip}:8080" for ip in self.ips)


class O3Baseline(O3Objects):
    """The same cluster from another binary, on its own addresses and data directories."""
    name = "o3storage-baseline"

    def __init__(self, root, binary):
        os.makedirs(root, exist_ok=True)
        super().__init__(root)
        self.binary = binary
        self.ips = [f"127.0.83.{n}" for n in (1, 2, 3)]

    def args(self, i):
        args = [self.binary] + super().args(i)[1:]
        if not self.takes_token():
            # A release before join tokens: its nodes join without one.
            at = args.index("--join-token-file")
            del args[at:at + 2]
        return args

    def takes_token(self):
        if not hasattr(self, "_takes_token"):
            usage = subprocess.run([self.binary, "--help"], capture_output=True, text=True, timeout=30)
            self._takes_token = "--join-token-file" in usage.stdout + usage.stderr
        return self._takes_token


class EtcdObjects(cluster_bench.EtcdCluster):
    def endpoints(self):
        return ",".join(f"http://{ip}:2379" for ip in self.ips)


def load(target, endpoints, op, size, clients, keys, seconds, once=False, extra=(), allow_errors=False):
    """One load generator run; failed requests raise unless allow_errors (then the caller reports them)."""
    args = ["dotnet", LOADGEN, "--target", target, "--endpoints", endpoints, "--op", op, "--size", str(size),
            "--clients", str(clients), "--keys", str(keys), "--seconds", str(seconds), *extra]
    if once:
        args += ["--once", "1"]
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=seconds + 600).stdout
    result = json.loads(out)
    if result["errors"] and not allow_errors:
        raise RuntimeError(f"{target} {op}: {result['errors']} errors, first: {result['first_error']}")
    return result


def median(runs, field):
    return statistics.median(r[field] for r in runs)


def small(systems, rounds):
    """systems: name -> cluster; each round runs every system's PUT then GET, in turn."""
    runs = {(system, op): [] for system in systems for op in ("put", "get")}
    for name, cluster in systems.items():
        # Every key once, untimed: a 10 s PUT run below 1,000/s would leave keys the GETs then miss (etcd
        # answers a missing key with an empty range, o3storage with 404).
        load("etcd" if name == "etcd" else "o3", cluster.endpoints(), "put", 4096, 64, 10_000, 1800, once=True)
    for _ in range(rounds):
        for name, cluster in systems.items():
            for op in ("put", "get"):
                target = "etcd" if name == "etcd" else "o3"
                runs[(name, op)].append(load(target, cluster.endpoints(), op, 4096, 64, 10_000, SMALL_SECONDS))
    return runs


def large(systems, rounds):
    """64 MiB objects through each o3storage cluster (this tree, and the baseline if any) and fio on the same disk, alternating."""
    path = os.path.join(WORK, "fio.dat")
    total = LARGE_OBJECTS * 64 * MIB
    runs = {"fio_write": [], "fio_read": []}
    for _ in range(rounds):
        for name, cluster in systems.items():
            for op in ("put", "get"):
                runs.setdefault(f"{name}_{op}", []).append(
                    load("o3", cluster.endpoints(), op, 64 * MIB, LARGE_CLIENTS, LARGE_OBJECTS, 600, once=True)["mib_per_s"])
        make_device(path, total)
        runs["fio_write"].append(fio("seqw", path, "write", "1M", total)["bytes_per_s"] / MIB)
        runs["fio_read"].append(fio("seqr", path, "read", "1M", total)["bytes_per_s"] / MIB)
        os.remove(path)
    return {k: statistics.median(v) for k, v in runs.items()}, runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="another o3storage binary to measure side by side")
    parser.add_argument("--small-only", action="store_true", help="skip the 64 MiB part")
    parser.add_argument("--large-only", action="store_true", help="skip the 4 KiB part")
    options = parser.parse_args()
    if options.small_only and options.large_only:
        sys.exit("--small-only and --large-only: choose one")
    if options.baseline and not os.access(options.baseline, os.X_OK):
        sys.exit(f"--baseline: {options.baseline} is not an executable")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])

    o3 = O3Objects(WORK)
    etcd = EtcdObjects(WORK)
    systems = {"o3": o3}
    if options.baseline:
        systems["baseline"] = O3Baseline(os.path.join(WORK, "baseline"), options.baseline)
    if not options.large_only:
        systems["etcd"] = etcd
    for name, cluster in systems.items():
        cluster.form()
        if name != "etcd":
            subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{cluster.ips[0]}:8080/bench"], check=True, capture_output=True)

    names = " and ".join(["3-node o3storage (127.0.80.x)"] + (["3-node baseline o3storage (127.0.83.x)"] if options.baseline else [])
                         + ([] if options.large_only else ["3-node etcd"]))
    print(f"object benchmark: {names}, {options.rounds} rounds, medians", flush=True)
    runs = {} if options.large_only else small(systems, options.rounds)
    if runs:
        print_small(systems, runs)
    if "etcd" in systems:
        etcd.stop()
    large_runs = None
    if not options.small_only:
        o3_systems = {n: c for n, c in systems.items() if n != "etcd"}
        medians, large_runs = large(o3_systems, options.rounds)
        print(f"\n64 MiB objects ({LARGE_OBJECTS} per run, {LARGE_CLIENTS} clients) vs fio on the same disk, MiB/s")
        goal_put = 0.8 * medians["fio_write"] / 3
        goal_get = 0.9 * medians["fio_read"]
        for name in o3_systems:
            label = "" if name == "o3" else f" ({name})"
            print(f"PUT{label} {medians[name + '_put']:.0f}  fio write {medians['fio_write']:.0f}  (goal >= 0.8 x fio/3 = {goal_put:.0f}; ratio to fio/3 {medians[name + '_put'] / (medians['fio_write'] / 3):.2f})")
            print(f"GET{label} {medians[name + '_get']:.0f}  fio read {medians['fio_read']:.0f}  (goal >= 0.9 x fio = {goal_get:.0f}; ratio {medians[name + '_get'] / medians['fio_read']:.2f})")
    for name, cluster in systems.items():
        if name != "etcd":
            cluster.stop()
    recorded = {}
    if runs:
        recorded["small"] = {f"{n}_{op}": {f: median(runs[(n, op)], f) for f in ("ops_per_s", "p50_ms", "p99_ms")} for n, op in runs}
    if large_runs:
        recorded["large"] = {k: statistics.median(v) for k, v in large_runs.items()}
    race.record("object", recorded)
    print("\nruns: " + json.dumps({"small": {f"{k[0]}_{k[1]}": [(r["ops_per_s"], r["p50_ms"], r["p99_ms"]) for r in v] for k, v in runs.items()}, "large": large_runs}))


def print_small(systems, runs):
    print("\n4 KiB values, 64 clients over 3 nodes, 10 s per run; ratios to etcd")
    columns = [n for n in systems if n != "etcd"]
    print(f"{'':14}" + "".join(f"{('o3storage' if n == 'o3' else n):>12}" for n in columns) + f"{'etcd':>12}" + "".join(f"{'ratio ' + n:>16}" for n in columns))
    for op in ("put", "get"):
        for field, label, fmt in (("ops_per_s", "ops/s", "12.0f"), ("p50_ms", "p50 ms", "12.1f"), ("p99_ms", "p99 ms", "12.1f")):
            values = {n: median(runs[(n, op)], field) for n in systems}
            print(f"{op.upper() + ' ' + label:14}" + "".join(format(values[n], fmt) for n in columns) + format(values["etcd"], fmt)
                  + "".join(f"{values[n] / values['etcd']:16.2f}" for n in columns))


if __name__ == "__main__":
    main()
