#!/usr/bin/env python3
"""Storage engine benchmark, side by side with fio on the same file, in one run.

For each measure, fio and the blob store take turns on one file on the same disk, freshly
fallocated before every run (ROUNDS rounds each, alternating, median reported), so both see the same
device, file system, extents and noise:
  - sequential write and read of 1 MiB and 64 MiB blobs vs fio direct=1 bs=1M (and, for context,
    fio with an fdatasync per blob: each put is durable when it returns)
  - durable 4 KiB puts per second vs fio 4 KiB writes with direct=1 fdatasync=1
  - recovery with 1,000,000 small blobs: a real node's store is filled, then the node is restarted
    and timed to /health 200; its RSS and the store's open time are reported

Loopback only; every process started here is stopped at exit. Usage:
  bench/storage_bench.py [--rounds N] [--small-blobs N] [--skip-recovery]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
O3 = os.path.join(ROOT, "artifacts", "linux-x64", "o3storage")
BENCH_DLL = os.path.join(ROOT, "bench", "StorageBench", "bin", "Release", "net10.0", "o3-storage-bench.dll")
WORK = os.path.join(ROOT, ".bench", "storage")
MIB = 1024 * 1024


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def store(*args):
    return run_json(["dotnet", BENCH_DLL, *[str(a) for a in args]])


def fio(name, path, rw, bs, size, extra=()):
    result = run_json(["fio", f"--name={name}", f"--filename={path}", f"--rw={rw}", f"--bs={bs}",
                       f"--size={size}", "--direct=1", "--ioengine=psync", "--output-format=json", *extra])
    job = result["jobs"][0]
    side = job["write"] if "write" in rw else job["read"]
    return {"bytes_per_s": side["bw_bytes"], "iops": side["iops"]}


def make_device(path, size):
    if os.path.exists(path):
        os.remove(path)
    subprocess.run(["fallocate", "-l", str(size), path], check=True)


def median(values):
    return statistics.median(values)


def sequential(rounds, blob_bytes, total_bytes):
    # Every run starts from a freshly fallocated file, so fio and the store meet the same extents.
    path = os.path.join(WORK, "seq.dev")
    size = total_bytes * 33 // 32 + 3 * 132 * MIB + 4 * MIB
    o3_w, o3_r, fio_w, fio_r, fio_ws = [], [], [], [], []
    blobs = total_bytes // blob_bytes
    for _ in range(rounds):
        make_device(path, size)
        fio_w.append(fio("seqw", path, "write", "1M", total_bytes)["bytes_per_s"])
        fio_r.append(fio("seqr", path, "read", "1M", total_bytes)["bytes_per_s"])
        make_device(path, size)
        fio_ws.append(fio("seqws", path, "write", "1M", total_bytes, [f"--fdatasync={blob_bytes // MIB}"])["bytes_per_s"])
        make_device(path, size)
        result = store("seq", path, blob_bytes, total_bytes)
        o3_w.append(result["write_bytes_per_s"])
        o3_r.append(result["read_bytes_per_s"])
    os.remove(path)
    return {
        "blob_mib": blob_bytes // MIB, "blobs": blobs,
        "o3_write": median(o3_w), "fio_write": median(fio_w), "fio_write_synced": median(fio_ws),
        "o3_read": median(o3_r), "fio_read": median(fio_r),
        "runs": {"o3_write": o3_w, "fio_write": fio_w, "fio_write_synced": fio_ws, "o3_read": o3_r, "fio_read": fio_r},
    }


def small_puts(rounds, count):
    path = os.path.join(WORK, "puts.dev")
    size = 3 * 132 * MIB + 4 * MIB + count * 8192 * 33 // 32
    o3_4k, o3_100, fio_4k = [], [], []
    for _ in range(rounds):
        make_device(path, size)
        fio_4k.append(fio("w4k", path, "write", "4k", count * 4096, ["--fdatasync=1"])["iops"])
        make_device(path, size)
        o3_4k.append(store("puts", path, 4096, count)["puts_per_s"])
        make_device(path, size)
        o3_100.append(store("puts", path, 100, count)["puts_per_s"])
    os.remove(path)
    return {"puts": count, "o3_4k": median(o3_4k), "o3_100b": median(o3_100), "fio_4k": median(fio_4k),
            "runs": {"o3_4k": o3_4k, "o3_100b": o3_100, "fio_4k": fio_4k}}


def health(ip):
    try:
        with urllib.request.urlopen(f"http://{ip}:8080/health", timeout=1) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return None, None


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def start_node(ip, data, extra=()):
    log = open(os.path.join(WORK, "node.log"), "a")
    return subprocess.Popen([O3, "--ip", ip, "--port", "8080", "--data", data, *extra], stdout=log, stderr=log)


def wait_healthy(node, ip, timeout_s=600):
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if node.poll() is not None:
            raise RuntimeError(f"node exited with {node.returncode}; see {WORK}/node.log")
        status, body = health(ip)
        if status == 200:
            return time.monotonic() - started, body
        time.sleep(0.01)
    raise TimeoutError("node did not become healthy")


def stop_node(node):
    node.send_signal(signal.SIGTERM)
    node.wait(timeout=60)


def recovery(small_blobs):
    ip = "127.0.77.1"
    data = os.path.join(WORK, "node")
    subprocess.run(["rm", "-rf", data], check=True)
    size_gib = max(2, (small_blobs * 4096) // (1024 * MIB) + 2)
    node = start_node(ip, data, ["--bootstrap", "--device-size", f"{size_gib}G"])
    try:
        wait_healthy(node, ip)
    finally:
        stop_node(node)
    fill = store("fill", os.path.join(data, "blobs.dev"), 100, small_blobs)
    reopen = store("open", os.path.join(data, "blobs.dev"))
    node = start_node(ip, data)
    try:
        seconds, body = wait_healthy(node, ip)
        time.sleep(1)
        rss = rss_bytes(node.pid)
    finally:
        stop_node(node)
    opened_ms = None
    with open(os.path.join(WORK, "node.log")) as log:
        for line in log:
            if "[3002]" in line and "opened in" in line:
                opened_ms = int(line.rsplit("opened in ", 1)[1].split()[0])
    subprocess.run(["rm", "-rf", data], check=True)
    return {
        "blobs": body["storage"]["total_objects"], "fill_puts_per_s": fill["puts_per_s"],
        "node_start_to_health_s": seconds, "node_store_open_ms": opened_ms, "node_rss_bytes": rss,
        "tool_open_s": reopen["open_seconds"], "tool_rss_bytes": reopen["rss_bytes"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small-blobs", type=int, default=1_000_000)
    parser.add_argument("--puts", type=int, default=20_000)
    parser.add_argument("--skip-recovery", action="store_true")
    parser.add_argument("--recovery-only", action="store_true")
    options = parser.parse_args()
    os.makedirs(WORK, exist_ok=True)
    if os.path.exists(os.path.join(WORK, "node.log")):
        os.remove(os.path.join(WORK, "node.log"))

    print(f"storage benchmark: fio and o3storage alternate on one file in {WORK}, {options.rounds} rounds, medians", flush=True)
    rows = []
    for blob_bytes, total in () if options.recovery_only else ((MIB, 2048 * MIB), (64 * MIB, 4096 * MIB)):
        r = sequential(options.rounds, blob_bytes, total)
        rows.append(r)
        print(f"    runs (MiB/s): " + ", ".join(f"{k} {' '.join(f'{v / MIB:.0f}' for v in vs)}" for k, vs in r["runs"].items()), flush=True)
        print(f"{r['blob_mib']:>3} MiB blobs x{r['blobs']}: write {r['o3_write'] / MIB:7.1f} MiB/s vs fio {r['fio_write'] / MIB:7.1f}"
              f" ({r['o3_write'] / r['fio_write']:.2f}; fio with fdatasync per blob {r['fio_write_synced'] / MIB:.1f}),"
              f" read {r['o3_read'] / MIB:7.1f} MiB/s vs fio {r['fio_read'] / MIB:7.1f} ({r['o3_read'] / r['fio_read']:.2f})", flush=True)
    p = None if options.recovery_only else small_puts(options.rounds, options.puts)
    if p:
        print(f"durable puts: 4 KiB {p['o3_4k']:.0f}/s, 100 B {p['o3_100b']:.0f}/s vs fio 4 KiB fdatasync=1 {p['fio_4k']:.0f}/s"
              f" ({p['o3_4k'] / p['fio_4k']:.2f}, {p['o3_100b'] / p['fio_4k']:.2f})", flush=True)
        print(f"    runs (/s): " + ", ".join(f"{k} {' '.join(f'{v:.0f}' for v in vs)}" for k, vs in p["runs"].items()), flush=True)
    if not options.skip_recovery:
        r = recovery(options.small_blobs)
        print(f"recovery with {r['blobs']} blobs of 100 B (filled at {r['fill_puts_per_s']:.0f} puts/s): node start to /health 200"
              f" {r['node_start_to_health_s']:.2f} s (store open {r['node_store_open_ms']} ms), node RSS {r['node_rss_bytes'] / MIB:.1f} MiB;"
              f" open alone {r['tool_open_s']:.2f} s, {r['tool_rss_bytes'] / MIB:.1f} MiB RSS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
