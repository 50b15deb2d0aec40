#!/usr/bin/env python3
"""o3ctl backup and restore against the aws CLI copying the same objects (issue 19), loopback only.

A 3-node cluster (A) holds SMALL objects of 64 KiB and LARGE objects of 16 MiB in one bucket. Measured,
side by side, ROUNDS times each, alternating:
  - o3ctl backup of A into a new directory (snapshot, every object read and checked, SHA-256 recorded);
  - the anchor: `aws s3 cp --recursive s3://bucket DIR` from A (the same bytes, read through S3);
  - o3ctl restore of the backup into an empty 3-node cluster (B), restarted fresh for each round;
  - the anchor: `aws s3 cp --recursive DIR s3://bucket` into a fresh B.
Every process started here is stopped at exit. Usage: bench/backup_bench.py [--small N] [--large N] [--rounds N]
"""
import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "backup")
O3CTL = os.path.join(ROOT, "artifacts", "linux-x64", "o3ctl")
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
           AWS_EC2_METADATA_DISABLED="true", HOME=WORK)
processes = []


def start_cluster(subnet, name):
    ips = [f"127.{subnet}.0.{n}" for n in range(1, 4)]
    root = os.path.join(WORK, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    for i, ip in enumerate(ips):
        args = [cluster_bench.O3, "--ip", ip, "--port", "8080", "--data", os.path.join(root, f"n{i}"),
                "--device-size", "2G", "--log-level", "warning"]
        args += ["--bootstrap"] if i == 0 else ["--peers", ips[0]]
        args += ["--join-token-file", cluster_bench.join_token_file(root)]
        processes.append(cluster_bench.spawn(args, open(os.path.join(root, f"n{i}.log"), "w")))

    def ready():
        status, body = cluster_bench.http(f"http://{ips[0]}:8080/health", timeout=2)
        return status == 200 and b'"active_nodes":3' in body.replace(b" ", b"")
    cluster_bench.wait_for(f"cluster {name}", ready, timeout=60, interval=0.2)
    return ips


def stop_all():
    while processes:
        cluster_bench.kill(processes.pop())


def run(args, **kwargs):
    started = time.monotonic()
    subprocess.run(args, check=True, env=ENV, stdout=subprocess.DEVNULL, **kwargs)
    return time.monotonic() - started


def aws(ip, command, *args):
    return ["aws", "--endpoint-url", f"http://{ip}:8080", "s3", command, *args] + (["--only-show-errors"] if command == "cp" else [])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    atexit.register(stop_all)

    source = os.path.join(WORK, "source")
    os.makedirs(os.path.join(source, "small"))
    os.makedirs(os.path.join(source, "large"))
    for i in range(options.small):
        with open(os.path.join(source, "small", f"{i:05d}"), "wb") as f:
            f.write(os.urandom(64 << 10))
    for i in range(options.large):
        with open(os.path.join(source, "large", f"{i:03d}"), "wb") as f:
            f.write(os.urandom(16 << 20))
    total = options.small * (64 << 10) + options.large * (16 << 20)
    objects = options.small + options.large

    a = start_cluster(84, "a")
    run(aws(a[0], "mb", "s3://bench"))
    run(aws(a[0], "cp", "--recursive", source, "s3://bench"))
    times = {"o3ctl backup": [], "aws s3 cp (download)": [], "o3ctl restore": [], "aws s3 cp (upload)": []}
    for r in range(options.rounds):
        backup = os.path.join(WORK, f"backup-{r}")
        times["o3ctl backup"].append(run([O3CTL, "-e", a[1], "backup", backup]))
        download = os.path.join(WORK, f"download-{r}")
        times["aws s3 cp (download)"].append(run(aws(a[1], "cp", "--recursive", "s3://bench", download)))
        b = start_cluster(85, "b")
        times["o3ctl restore"].append(run([O3CTL, "-e", b[1], "restore", backup]))
        for _ in range(3):
            cluster_bench.kill(processes.pop())
        b = start_cluster(85, "b")
        run(aws(b[0], "mb", "s3://bench"))
        times["aws s3 cp (upload)"].append(run(aws(b[1], "cp", "--recursive", download, "s3://bench")))
        for _ in range(3):
            cluster_bench.kill(processes.pop())
        shutil.rmtree(download)
        if r > 0:
            shutil.rmtree(backup)

    print(f"{objects} objects ({options.small} of 64 KiB, {options.large} of 16 MiB), {total / 2**20:.0f} MiB, {options.rounds} rounds, median:")
    print("| what | seconds | MiB/s | objects/s |")
    print("| --- | ---: | ---: | ---: |")
    for what, values in times.items():
        median = statistics.median(values)
        print(f"| {what} | {median:.2f} | {total / 2**20 / median:.1f} | {objects / median:.0f} |")
    for pair in (("o3ctl backup", "aws s3 cp (download)"), ("o3ctl restore", "aws s3 cp (upload)")):
        print(f"{pair[0]} / {pair[1]}: {statistics.median(times[pair[0]]) / statistics.median(times[pair[1]]):.2f}x the time")


if __name__ == "__main__":
    main()
