#!/usr/bin/env python3
"""Where the CPU goes during a load on a 3-node cluster: `perf record` of the whole machine while the load
generator runs, then the samples summed by what the code does (hashing, TLS, copies, the kernel's network
and disk paths, ...), so a benchmark row can say what stands between it and its goal.

The cluster is the object benchmark's (127.0.80.1-3, replication factor 3, authentication off), built by
`make publish`; symbols come from the native-AOT build's o3storage.dbg (registered in perf's build-id
cache). Samples are cpu-clock (this machine has no hardware counters), all processes, 999 Hz.
Usage: bench/profile_bench.py [--op put|get] [--size 64M] [--clients 4] [--objects 12] [--top 40]
                               [--callers REGEX]
--callers records call graphs (frame pointers) and prints who calls the symbols REGEX matches, e.g.
`--callers sched_yield` for the threads that spin.
"""
import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402
import object_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "profile")
DEBUG_SYMBOLS = os.path.join(ROOT, "node", "src", "O3Storage.Node", "bin", "Release", "net10.0", "linux-x64", "native", "o3storage.dbg")

# What a sample's thread, shared object and symbol mean; the first match wins. OpenSSL's libcrypto has no
# symbols for its assembly here, so MD5 (the ETag, through .NET) and AES-GCM (TLS) share one row.
CATEGORIES = [
    ("idle (no work to run)", r"^swapper\|"),
    ("OpenSSL: MD5 and AES-GCM (TLS between nodes)", r"libcrypto|libssl"),
    ("TLS records (SslStream)", r"SslStream|Security"),
    ("CRC-32C", r"Crc32C"),
    ("memory copies (user space)", r"memmove|memcpy|Memmove|memset"),
    ("kernel: copies to and from sockets", r"_copy_(to|from)_iter|copy_user|__skb_datagram_iter|rep_movs"),
    ("kernel: network stack", r"tcp_|ip_|skb|sock|net_|__dev_queue|loopback|napi|inet_|recv|send"),
    ("kernel: disk and file system", r"ext4|jbd2|blk_|bio|iomap|virtio|iowrite|submit_bio|fsync|dio_|filemap"),
    ("kernel: other (in this VM, mostly syscall and interrupt time shown at pvm_irq_enable)", r"kernel\.kallsyms"),
    ("sockets and Kestrel (.NET)", r"Socket|Kestrel|Http|Pipe|SystemNative"),
    ("runtime: threads, locks, GC", r"Monitor|RhSpinWait|RhpPInvoke|sched_yield|futex|WKS::|SVR::|Gc|Thread"),
    ("the load generator (dotnet)", r"^dotnet\|"),
]


def categorize(comm, dso, symbol):
    text = f"{comm}|{dso}|{symbol}"
    for name, pattern in CATEGORIES:
        if re.search(pattern, text):
            return name
    return "other"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--op", default="put", choices=("put", "get"))
    parser.add_argument("--size", default="64M")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--objects", type=int, default=12)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--callers", help="print the call chains into symbols matching this regex (records with -g)")
    options = parser.parse_args()
    if shutil.which("perf") is None:
        sys.exit("missing perf: run make deps (Debian linux-perf)")
    if os.path.exists(DEBUG_SYMBOLS):
        subprocess.run(["perf", "buildid-cache", "-a", DEBUG_SYMBOLS], capture_output=True)
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])
    cluster = object_bench.O3Objects(WORK)
    cluster.form()
    subprocess.run(["curl", "-sf", "-X", "PUT", f"http://{cluster.ips[0]}:8080/bench"], check=True, capture_output=True)
    size = options.size
    if options.op == "get":
        object_bench.load("o3", cluster.endpoints(), "put", size, options.clients, options.objects, 600, once=True)
    data = os.path.join(WORK, "perf.data")
    graph = ["-g"] if options.callers else []
    perf = subprocess.Popen(["perf", "record", "-a", *graph, "-F", "999", "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = object_bench.load("o3", cluster.endpoints(), options.op, size, options.clients, options.objects, 600, once=True)
    finally:
        perf.send_signal(2)
        perf.wait(60)
    cluster.stop()
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "comm,dso,sym", "-t", "|"],
                            capture_output=True, text=True, check=True).stdout
    rows = []
    for line in report.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 4 and fields[0].endswith("%"):
            rows.append((float(fields[0][:-1]), fields[1], fields[2], re.sub(r"^\[[.k]\] ", "", fields[3])))
    by_category = Counter()
    for percent, comm, dso, symbol in rows:
        by_category[categorize(comm, dso, symbol)] += percent
    print(f"{options.op.upper()} of {options.objects} objects of {size}, {options.clients} clients: {result['mib_per_s']:.0f} MiB/s")
    print("\nthe whole machine's CPU samples by kind, percent (two cores: 100 is both busy throughout):")
    for name, percent in by_category.most_common():
        print(f"  {percent:5.1f}  {name}")
    print(f"\ntop {options.top} symbols:")
    for percent, comm, dso, symbol in rows[:options.top]:
        print(f"  {percent:5.1f}  {comm[:16]:16} {os.path.basename(dso)[:22]:22} {symbol[:90]}")
    if options.callers:
        print_callers(data, options.callers)


def print_callers(data, pattern):
    """The caller chains (innermost first) of the samples whose own symbol matches pattern, by share."""
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], capture_output=True, text=True, check=True).stdout
    chains = Counter()
    total = 0
    for sample in script.split("\n\n"):
        lines = [line.strip() for line in sample.strip().splitlines()]
        if len(lines) < 2:
            continue
        total += 1
        frames = [line.split(None, 1)[1] if " " in line else line for line in lines[1:]]
        if re.search(pattern, frames[0]):
            callers = [re.sub(r"\+0x[0-9a-f]+$", "", f) for f in frames[1:] if not f.startswith("[unknown]")]
            chains[" <- ".join(callers[:8])] += 1
    matched = sum(chains.values())
    print(f"\n{matched} of {total} samples ({100.0 * matched / max(total, 1):.1f} %) in symbols matching {pattern!r}; their callers:")
    for chain, count in chains.most_common(25):
        print(f"  {100.0 * count / max(total, 1):5.1f}  {chain[:400]}")


if __name__ == "__main__":
    main()
