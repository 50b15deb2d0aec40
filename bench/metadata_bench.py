#!/usr/bin/env python3
"""Metadata growth (issue 21, item 4): runs o3-metadata-bench (bench/MetadataBench, the node's own
metadata code in one process) for 100,000, 1,000,000 and 5,000,000 objects and prints how each cost
grows: snapshot size and write time, the time to read it back (a restarted node does that before it
serves), the managed heap per object, one more PUT, a listing page at the start and 90 % in, and one
placement survey (each node runs one over every object when the metadata or a member's liveness
changed, at most every 5 s).
Usage: bench/metadata_bench.py [--objects 100000,1000000,5000000]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench", "MetadataBench", "bin", "Release", "net10.0", "o3-metadata-bench.dll")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", default="100000,1000000,5000000")
    options = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"missing {BENCH}: dotnet build bench/MetadataBench -c Release")
    out = subprocess.run(["dotnet", BENCH, "--objects", options.objects], check=True, capture_output=True, text=True, timeout=3600).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print("| objects | " + " | ".join(f"{r['objects']:,}" for r in rows) + " |")
    print("| --- | " + " | ".join("---" for _ in rows) + " |")

    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(r) for r in rows) + " |")
    row("snapshot size, MiB (bytes per object)", lambda r: f"{r['snapshot_bytes'] / 2**20:.0f} ({r['snapshot_bytes'] / r['objects']:.0f})")
    row("snapshot write (EncodeSnapshot), ms", lambda r: f"{r['encode_ms']}")
    row("snapshot read back (DecodeSnapshot, before a restarted node serves), ms", lambda r: f"{r['decode_ms']}")
    row("managed heap of the read-back state, bytes per object", lambda r: f"{r['heap_bytes_per_object']}")
    row("one more PUT applied, ms (median of 200)", lambda r: f"{r['apply_put_ms']:.3f}")
    row("LIST page of 1000 keys from the start, ms", lambda r: f"{r['list_first_page_ms']:.3f}")
    row("LIST page of 1000 keys from 90 % in, ms", lambda r: f"{r['list_deep_page_ms']:.3f}")
    row("one placement survey walking every object (each node, when a member or its liveness changed), ms", lambda r: f"{r['survey_ms']}")
    row("the survey after 100 more PUTs, following the changes (a round under writes), ms", lambda r: f"{r['survey_after_100_puts_ms']:.1f}")


if __name__ == "__main__":
    main()
