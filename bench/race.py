#!/usr/bin/env python3
"""The performance race (issue 21) in one table: every row the issue names, from the benches of one run.

object_bench.py, failover_bench.py, swift_bench.py and growth_bench.py each call record() with their
medians; `make bench` empties .bench/results before the first bench and runs this script after the
last, so the table holds one run's numbers and names any bench that did not record (failed, or not run).
Each row prints the measured value, its anchor, the ratio and the issue's goal, met or how far it stands.
Usage: bench/race.py            (prints the table from .bench/results)
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, ".bench", "results")
BENCHES = ("object", "failover", "swift", "growth")


def record(bench, data):
    """Keeps one bench's medians for the race table (a later run of the same bench replaces them)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{bench}.json"), "w") as f:
        json.dump(data, f, indent=1)


def load(bench):
    path = os.path.join(RESULTS, f"{bench}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def verdict(met, how_far):
    return "met" if met else f"not met: {how_far}"


def rows():
    """(row, measured, anchor, ratio, goal and verdict) for every bench that recorded."""
    out = []
    objects = load("object")
    if objects and "small" in objects:
        s = objects["small"]
        put, etcd_put = s["o3_put"], s["etcd_put"]
        ratio = put["ops_per_s"] / etcd_put["ops_per_s"]
        p99 = put["p99_ms"] / etcd_put["p99_ms"]
        out.append(("4 KiB PUT ops/s, 64 clients (etcd)", f"{put['ops_per_s']:.0f}", f"{etcd_put['ops_per_s']:.0f}", f"{ratio:.2f}",
                    "≥ 2.00: " + verdict(ratio >= 2, f"{ratio / 2:.0%} of the goal")))
        out.append(("4 KiB PUT p99 ms (etcd)", f"{put['p99_ms']:.1f}", f"{etcd_put['p99_ms']:.1f}", f"{p99:.2f}",
                    "≤ 1.00: " + verdict(p99 <= 1, f"{p99:.2f} times etcd's")))
        get, etcd_get = s["o3_get"], s["etcd_get"]
        out.append(("4 KiB GET ops/s (etcd)", f"{get['ops_per_s']:.0f}", f"{etcd_get['ops_per_s']:.0f}",
                    f"{get['ops_per_s'] / etcd_get['ops_per_s']:.2f}", "(no goal)"))
        out.append(("4 KiB GET p99 ms (etcd)", f"{get['p99_ms']:.1f}", f"{etcd_get['p99_ms']:.1f}",
                    f"{get['p99_ms'] / etcd_get['p99_ms']:.2f}", "(no goal)"))
    if objects and "large" in objects:
        g = objects["large"]
        third = g["fio_write"] / 3
        ratio = g["o3_put"] / third
        out.append(("64 MiB PUT MiB/s (fio write / 3)", f"{g['o3_put']:.0f}", f"{third:.0f}", f"{ratio:.2f}",
                    "≥ 0.80: " + verdict(ratio >= 0.8, f"{ratio / 0.8:.0%} of the goal")))
        ratio = g["o3_get"] / g["fio_read"]
        out.append(("64 MiB GET MiB/s (fio read)", f"{g['o3_get']:.0f}", f"{g['fio_read']:.0f}", f"{ratio:.2f}",
                    "≥ 0.90: " + verdict(ratio >= 0.9, f"{ratio / 0.9:.0%} of the goal")))
    swift = load("swift")
    if swift:
        for label, fields in swift.items():
            for field, value in fields.items():
                o3, peer = value
                latency = field.endswith("_ms")
                ratio = o3 / peer
                ahead = ratio <= 1 if latency else ratio >= 1
                unit = {"ops_per_s": "ops/s", "mib_per_s": "MiB/s", "p50_ms": "p50 ms", "p99_ms": "p99 ms"}[field]
                if label.startswith("LIST") and field == "ops_per_s":
                    unit = "pages/s"
                out.append((f"S3 {label} {unit} (Swift)", f"{o3:.1f}", f"{peer:.1f}", f"{ratio:.2f}",
                            ("≤ 1.00: " if latency else "≥ 1.00: ") + verdict(ahead, "behind Swift")))
    growth = load("growth")
    if growth:
        for r in growth:
            n = f"{r['objects'] / 1e6:g}M"
            out.append((f"resident memory per object, bytes ({n})", f"{r['bytes_per_object']:.0f}", "", "",
                        "≤ 100: " + verdict(r["bytes_per_object"] <= 100, f"{r['bytes_per_object'] / 100:.1f} times the goal")))
            slowest = max(r["restart_s"])
            goal = r["objects"] < 5_000_000 or slowest <= 5
            out.append((f"restart to /health 200, s, slowest of 3 ({n})", f"{slowest:.1f}", "", "",
                        ("≤ 5 at 5M: " + verdict(goal, f"{slowest / 5:.1f} times the goal")) if r["objects"] >= 5_000_000 else "(goal at 5M)"))
            if "serving_s" in r:
                out.append((f"restart to every node answering a LIST, s ({n})", f"{r['serving_s']:.1f}", "", "", "(no goal; measured after 10 s of settling)"))
            caught = r.get("join_caught_up_s")
            out.append((f"new node start to caught up, s ({n})", f"{caught:.1f}" if caught is not None else "gave up", "", "", "(no goal)"))
            deep, first = r["list_deep_ms"], r["list_first_ms"]
            # "As fast as the first": within a quarter, or 5 ms (one scheduler slice on this shared machine).
            same = deep <= max(first * 1.25, first + 5)
            out.append((f"LIST page 90 % in / first, ms ({n})", f"{deep:.1f}", f"{first:.1f}", f"{deep / first:.2f}",
                        "as fast as the first: " + verdict(same, f"{deep / first:.2f} times the first")))
    failover = load("failover")
    if failover:
        median = failover["kill_median_ms"]
        out.append(("failover after kill -9, median ms (10 kills per turn under load)", f"{median:.0f}", "", "",
                    "< 500: " + verdict(median < 500, f"{median / 500:.2f} times the goal")))
        out.append(("spurious elections under load", f"{failover['spurious']}", "", "",
                    "0: " + verdict(failover["spurious"] == 0, "elections without a fault")))
    return out


def main():
    table = rows()
    missing = [b for b in BENCHES if load(b) is None]
    print("\nPerformance race (issue 21), this run of make bench: measured, anchor, ratio, goal")
    print("| row | o3storage | anchor | ratio | goal |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in table:
        print("| " + " | ".join(row) + " |")
    if missing:
        print(f"no result from: {', '.join(f'bench/{b}_bench.py' for b in missing)} (failed or not run in this make bench)")
        sys.exit(1)


if __name__ == "__main__":
    main()
