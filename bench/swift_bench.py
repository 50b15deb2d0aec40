#!/usr/bin/env python3
"""o3storage against OpenStack Swift through S3, side by side in one run on this machine, loopback only.

Swift is the replicated S3 store a user can install here from Debian (swift-proxy with its s3api
middleware). It runs as Swift's all-in-one development setup does, with three "nodes": on each of
127.0.84.1-3 an object, a container and an account server (one worker each, devices in directories on
this disk, mount_check off) and a proxy (s3api, tempauth, memcache; one worker) on port 8080; rings of
1024 partitions with three replicas, one device per zone; one memcached. o3storage runs its usual 3-node
cluster (127.0.80.1-3) with authentication on. The same load generator (bench/LoadGen) signs every
request with SigV4 (UNSIGNED-PAYLOAD) for both and spreads clients over the three nodes' endpoints:

  - 4 KiB PUT and GET: 64 clients, 10 s per run, ops/s and p50/p99;
  - 64 MiB PUT and GET: 4 clients, 6 objects per run, MiB/s;
  - LIST: ListObjectsV2 pages of up to 1000 keys (start-after a key anywhere in the bucket) from the
    4 KiB rows' bucket of 10,000 objects, 8 clients, 10 s per run, pages/s and p50/p99.

Rounds alternate between the two systems; medians are reported with ratios o3storage/Swift (above 1 is
o3storage ahead for throughput, below 1 for latency). Swift reads its swift.conf from the bench's own
directory (swift_dir), so /etc/swift is not touched. Every process started here is stopped at exit;
every load is bounded in time or count.
Usage: bench/swift_bench.py [--rounds N]
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
import cluster_bench  # noqa: E402
import object_bench  # noqa: E402
import race  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".bench", "swift")
MIB = 1024 * 1024
SMALL_SECONDS = 10
LARGE_OBJECTS = 6
LIST_KEYS = 10_000
O3_ACCESS = "O3BENCHACCESSKEY0001"
O3_SECRET = "b3e1" * 16
SWIFT_ACCESS = "test:tester"
SWIFT_SECRET = "testing"
SWIFT_BINARIES = ("swift-ring-builder", "swift-proxy-server", "swift-object-server", "swift-container-server",
                  "swift-account-server", "memcached")
# Server kind -> (port, ring name).
BACKENDS = {"object": 6200, "container": 6201, "account": 6202}


class O3Signed(object_bench.O3Objects):
    """The 3-node cluster with a read-write key: authentication on, as a user runs it."""

    def args(self, i):
        return super().args(i) + ["--api-keys", keys_file(self.root)]

    def credentials(self):
        return O3_ACCESS, O3_SECRET


def keys_file(root):
    path = os.path.join(root, "api-keys.txt")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"read-write:{O3_SECRET}:{O3_ACCESS}\n")
    return path


class SwiftCluster:
    """Swift all-in-one with three nodes on 127.0.84.1-3, S3 through s3api on each node's proxy."""
    name = "swift"

    def __init__(self, root):
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.ips = [f"127.0.84.{n}" for n in (1, 2, 3)]
        self.procs = []
        self.log = open(os.path.join(root, "swift.log"), "ab")

    def credentials(self):
        return SWIFT_ACCESS, SWIFT_SECRET

    def endpoints(self):
        return ",".join(f"http://{ip}:8080" for ip in self.ips)

    def write(self, name, text):
        with open(os.path.join(self.etc, name), "w") as f:
            f.write(text)
        return os.path.join(self.etc, name)

    def common(self, ip, port, workers=1):
        return (f"[DEFAULT]\nbind_ip = {ip}\nbind_port = {port}\nworkers = {workers}\nuser = root\n"
                f"swift_dir = {self.etc}\nlog_level = WARNING\nlog_name = swift-bench\n")

    def configure(self):
        os.makedirs(self.etc, exist_ok=True)
        suffix = os.urandom(8).hex()
        self.write("swift.conf", f"[swift-hash]\nswift_hash_path_suffix = {suffix}\nswift_hash_path_prefix = o3bench\n\n"
                   "[storage-policy:0]\nname = Policy-0\ndefault = yes\n")
        for kind, port in BACKENDS.items():
            builder = os.path.join(self.etc, f"{kind}.builder")
            subprocess.run(["swift-ring-builder", builder, "create", "10", "3", "1"], check=True, capture_output=True)
            for n, ip in enumerate(self.ips, 1):
                subprocess.run(["swift-ring-builder", builder, "add", f"r1z{n}-{ip}:{port}/d{n}", "100"], check=True, capture_output=True)
            subprocess.run(["swift-ring-builder", builder, "rebalance"], check=True, capture_output=True)
        configs = []
        for n, ip in enumerate(self.ips, 1):
            devices = os.path.join(self.root, f"n{n}")
            os.makedirs(os.path.join(devices, f"d{n}"), exist_ok=True)
            for kind, port in BACKENDS.items():
                text = (self.common(ip, port) + f"devices = {devices}\nmount_check = false\n\n"
                        f"[pipeline:main]\npipeline = {kind}-server\n\n[app:{kind}-server]\nuse = egg:swift#{kind}\n\n"
                        f"[{kind}-replicator]\n\n[{kind}-auditor]\n")
                if kind != "account":
                    text += f"\n[{kind}-updater]\n"
                configs.append((f"swift-{kind}-server", self.write(f"{kind}-{n}.conf", text)))
            proxy = (self.common(ip, 8080) + "\n[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy-logging cache "
                     "listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server\n\n"
                     "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
                     f"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {SWIFT_SECRET} .admin\n\n"
                     "[filter:s3api]\nuse = egg:swift#s3api\nlocation = us-east-1\n\n"
                     f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = {self.ips[0]}:11211\n\n"
                     + "".join(f"[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n\n"
                               for name in ("catch_errors", "gatekeeper", "healthcheck", "proxy-logging", "listing_formats", "copy", "slo", "dlo")))
            configs.append(("swift-proxy-server", self.write(f"proxy-{n}.conf", proxy)))
        return configs

    def form(self):
        configs = self.configure()
        self.procs.append(cluster_bench.spawn(["memcached", "-u", "root", "-l", self.ips[0], "-p", "11211", "-m", "256"], self.log))
        for binary, config in configs:
            self.procs.append(cluster_bench.spawn([binary, config], self.log))
        for ip in self.ips:
            cluster_bench.wait_for(f"swift proxy on {ip}", lambda ip=ip: cluster_bench.http(f"http://{ip}:8080/healthcheck")[0] == 200, interval=0.1)

    def stop(self):
        """Each server's whole process group: Swift's servers fork workers that outlive a killed parent."""
        for p in self.procs:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                if sig == signal.SIGTERM:
                    time.sleep(0.2)
            cluster_bench.kill(p)


def load(cluster, op, size, clients, keys, seconds, bucket="bench", once=False, allow_errors=False):
    access, secret = cluster.credentials()
    try:
        return object_bench.load("s3", cluster.endpoints(), op, size, clients, keys, seconds, once=once, allow_errors=allow_errors,
                                 extra=("--bucket", bucket, "--access-key", access, "--secret-key", secret))
    except RuntimeError as e:
        raise RuntimeError(f"{cluster.name}, {size} bytes: {e}") from None


def create_bucket(cluster, bucket):
    """Through the load generator's signer: Swift's access key (account:user) has a colon, which curl's --user cannot carry."""
    access, secret = cluster.credentials()
    created = subprocess.run(["dotnet", object_bench.LOADGEN, "--target", "s3", "--endpoints", cluster.endpoints(), "--op", "mkbucket", "--bucket", bucket,
                              "--access-key", access, "--secret-key", secret], capture_output=True, text=True, timeout=120)
    if created.returncode != 0:
        raise RuntimeError(f"{cluster.name}: {created.stderr.strip()}")


# Rows: (label, op, size, clients, keys, seconds, once, bucket).
ROWS = [
    ("4 KiB PUT", "put", 4096, 64, LIST_KEYS, SMALL_SECONDS, False, "bench"),
    ("4 KiB GET", "get", 4096, 64, LIST_KEYS, SMALL_SECONDS, False, "bench"),
    ("64 MiB PUT", "put", 64 * MIB, 4, LARGE_OBJECTS, 900, True, "large"),
    ("64 MiB GET", "get", 64 * MIB, 4, LARGE_OBJECTS, 900, True, "large"),
    ("LIST 1000 of 10k", "list", 0, 8, LIST_KEYS, SMALL_SECONDS, False, "bench"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    missing = [b for b in SWIFT_BINARIES if shutil.which(b) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: run make deps (Debian swift-proxy, swift-object, swift-container, swift-account, memcached)")
    if not os.path.exists(cluster_bench.O3):
        sys.exit(f"missing {cluster_bench.O3}: run make publish")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "o3"))
    os.makedirs(os.path.join(WORK, "swift"))
    systems = {"o3storage": O3Signed(os.path.join(WORK, "o3")), "swift": SwiftCluster(os.path.join(WORK, "swift"))}
    atexit.register(lambda: [cluster_bench.kill(p) for p in cluster_bench.processes])
    atexit.register(systems["swift"].stop)  # runs first: the servers' forked workers too
    for name, cluster in systems.items():
        cluster.form()
        for bucket in ("bench", "large"):
            create_bucket(cluster, bucket)
        # Written once, not timed: the 10,000 keys the 4 KiB GETs ask for and LIST pages through (the
        # timed PUTs overwrite the same keys, so the bucket keeps 10,000 objects).
        load(cluster, "put", 4096, 64, LIST_KEYS, 1800, bucket="bench", once=True)
    # Swift's fill leaves its container updates and the file system's write-back behind it: settle before
    # timing, so neither system's first round pays for the other's setup.
    os.sync()
    time.sleep(5)
    print(f"S3 side by side: 3-node o3storage (127.0.80.x) and Swift all-in-one with 3 replicas (127.0.84.x), "
          f"SigV4-signed, {options.rounds} rounds, medians", flush=True)

    runs = {(name, row[0]): [] for name in systems for row in ROWS}
    errors = []
    for _ in range(options.rounds):
        for label, op, size, clients, keys, seconds, once, bucket in ROWS:
            for name, cluster in systems.items():
                result = load(cluster, op, size, clients, keys, seconds, bucket=bucket, once=once, allow_errors=True)
                if result["errors"]:
                    # Kept and reported, not fatal: a refused request under load is a finding, not a broken bench.
                    errors.append(f"{name} {label}: {result['errors']} failed, first: {result['first_error']}")
                    print(f"  {errors[-1]}", flush=True)
                runs[(name, label)].append(result)

    print(f"\n{'':24}{'o3storage':>12}{'swift':>12}{'ratio':>8}")
    recorded = {}
    for label, op, size, *_ in ROWS:
        fields = [("mib_per_s", "MiB/s")] if size >= MIB else [("ops_per_s", "pages/s" if op == "list" else "ops/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms")]
        for field, unit in fields:
            o3, swift = (statistics.median(r[field] for r in runs[(name, label)]) for name in systems)
            print(f"{label + ' ' + unit:24}{o3:12.1f}{swift:12.1f}{o3 / swift:8.2f}")
            recorded.setdefault(label, {})[field] = (o3, swift)
    race.record("swift", recorded)
    for cluster in systems.values():
        cluster.stop()
    print("\nfailed requests: " + ("none" if not errors else "; ".join(errors)))
    print("runs: " + json.dumps({f"{name} {label}": [(r["ops_per_s"], r["mib_per_s"], r["p50_ms"], r["p99_ms"]) for r in v]
                                   for (name, label), v in runs.items()}))


if __name__ == "__main__":
    main()
