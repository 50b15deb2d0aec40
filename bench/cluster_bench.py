#!/usr/bin/env python3
"""Node foundation benchmark, side by side with etcd (Debian etcd-server), 3 nodes each, loopback only.

Measures, for o3storage and etcd in one run on this machine:
  - time from process start to that node's first /health 200
  - idle RSS per node (VmRSS, 5 s after the cluster formed)
  - time from kill -9 of the leader to a survivor naming a new leader (median of ROUNDS)

Every loop is bounded; every process started here is killed at exit. Usage: bench/cluster_bench.py [ROUNDS]
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
O3 = os.path.join(ROOT, "artifacts", "linux-x64", "o3storage")
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ROUNDS = int(sys.argv[1]) if __name__ == "__main__" and len(sys.argv) > 1 else 10  # only when run itself: importers have their own arguments
STARTUP_RUNS = 5
WAIT_S = 30.0
processes = []


def http(url, data=None, timeout=1.0):
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return None, None


def wait_for(what, predicate, timeout=WAIT_S, interval=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None and value is not False:
            return value
        time.sleep(interval)
    raise TimeoutError(f"waited {timeout} s for {what}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def spawn(args, log):
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(process)
    return process


def kill(process, sig=signal.SIGKILL):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def join_token_file(root):
    """The cluster's join token in root (made once), as an operator copies it to each node."""
    path = os.path.join(root, "join-token")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("o3t1-" + os.urandom(16).hex() + "\n")
    return path


class O3Cluster:
    name = "o3storage"

    def __init__(self, root):
        self.root = root
        self.ips = [f"127.0.80.{n}" for n in (1, 2, 3)]
        self.procs = {}
        self.log = open(os.path.join(root, "o3.log"), "ab")

    def args(self, i):
        ip = self.ips[i]
        role = ["--bootstrap"] if i == 0 else ["--peers", self.ips[0]]
        return [O3, "--ip", ip, "--port", "8080", "--data", os.path.join(self.root, f"n{i}"), "--join-token-file", join_token_file(self.root)] + role

    def healthy(self, i):
        status, _ = http(f"http://{self.ips[i]}:8080/health", timeout=0.5)
        return status == 200

    def start(self, i):
        self.procs[i] = spawn(self.args(i), self.log)
        return time.monotonic()

    def form(self):
        """Starts the cluster as the guide does; returns per-node ms from process start to first 200."""
        started = self.start(0)
        wait_for("bootstrap node healthy", lambda: self.healthy(0))
        times = [(time.monotonic() - started) * 1000]
        starts = {i: self.start(i) for i in (1, 2)}
        done = {}
        def poll():
            for i in (1, 2):
                if i not in done and self.healthy(i):
                    done[i] = (time.monotonic() - starts[i]) * 1000
            return len(done) == 2
        wait_for("joiners healthy", poll, interval=0.001)
        self.wait_full()
        return times + [done[1], done[2]]

    def wait_full(self):
        def full():
            for ip in self.ips:
                status, body = http(f"http://{ip}:8080/health", timeout=0.5)
                if status != 200 or json.loads(body)["cluster"]["active_nodes"] != 3:
                    return False
            return True
        wait_for("3 active nodes everywhere", full, interval=0.05)

    def leader(self, candidates):
        for i in candidates:
            status, body = http(f"http://{self.ips[i]}:8080/health", timeout=0.3)
            if status == 200:
                leader = json.loads(body)["cluster"]["leader"]
                if leader:
                    return self.ips.index(leader.split(":")[0])
        return None

    def stop(self):
        for p in self.procs.values():
            kill(p, signal.SIGTERM)


class EtcdCluster:
    name = "etcd 3.4 (defaults)"

    def __init__(self, root):
        self.root = root
        self.ips = [f"127.0.81.{n}" for n in (1, 2, 3)]
        self.procs = {}
        self.ids = {}
        self.log = open(os.path.join(root, "etcd.log"), "ab")
        self.initial = ",".join(f"e{i}=http://{ip}:2380" for i, ip in enumerate(self.ips))

    def args(self, i):
        ip = self.ips[i]
        return [ETCD, "--name", f"e{i}", "--data-dir", os.path.join(self.root, f"e{i}"),
                "--listen-client-urls", f"http://{ip}:2379", "--advertise-client-urls", f"http://{ip}:2379",
                "--listen-peer-urls", f"http://{ip}:2380", "--initial-advertise-peer-urls", f"http://{ip}:2380",
                "--initial-cluster", self.initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", "o3bench", "--log-level", "error"]

    def healthy(self, i):
        status, body = http(f"http://{self.ips[i]}:2379/health", timeout=0.5)
        return status == 200 and json.loads(body).get("health") == "true"

    def start(self, i):
        self.procs[i] = spawn(self.args(i), self.log)
        return time.monotonic()

    def form(self):
        starts = {i: self.start(i) for i in (0, 1, 2)}
        done = {}
        def poll():
            for i in (0, 1, 2):
                if i not in done and self.healthy(i):
                    done[i] = (time.monotonic() - starts[i]) * 1000
            return len(done) == 3
        wait_for("etcd healthy", poll, interval=0.001)
        self.wait_full()
        return [done[0], done[1], done[2]]

    def status(self, i):
        status, body = http(f"http://{self.ips[i]}:2379/v3/maintenance/status", data=b"{}", timeout=0.3)
        if status != 200:
            return None
        answer = json.loads(body)
        return answer["header"]["member_id"], answer.get("leader", "0")

    def wait_full(self):
        wait_for("etcd 3 healthy", lambda: all(self.healthy(i) for i in (0, 1, 2)), interval=0.05)
        for i in (0, 1, 2):
            self.ids[i] = wait_for("etcd status", lambda i=i: self.status(i))[0]

    def leader(self, candidates):
        for i in candidates:
            answer = self.status(i)
            if answer and answer[1] not in ("0", None):
                for node, member in self.ids.items():
                    if member == answer[1]:
                        return node
        return None

    def stop(self):
        for p in self.procs.values():
            kill(p, signal.SIGTERM)


def failover(cluster, rounds):
    samples = []
    for _ in range(rounds):
        old = wait_for("a leader", lambda: cluster.leader((0, 1, 2)))
        survivors = [i for i in (0, 1, 2) if i != old]
        kill(cluster.procs[old])
        killed_at = time.monotonic()
        def new_leader():
            leader = cluster.leader(survivors)
            return leader is not None and leader != old
        wait_for("a new leader", new_leader, interval=0.001)
        samples.append((time.monotonic() - killed_at) * 1000)
        cluster.procs[old] = spawn(cluster.args(old), cluster.log)
        cluster.wait_full()
        time.sleep(1.0)
    return samples


def main():
    for path in (O3, ETCD):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run make publish (and make deps for etcd)")
    results = {}
    try:
        for kind in (O3Cluster, EtcdCluster):
            startup = []
            for _ in range(STARTUP_RUNS):
                root = tempfile.mkdtemp(prefix="o3-bench-")
                cluster = kind(root)
                startup.extend(cluster.form())
                cluster.stop()
                shutil.rmtree(root, ignore_errors=True)
            root = tempfile.mkdtemp(prefix="o3-bench-")
            cluster = kind(root)
            cluster.form()
            time.sleep(5)
            rss = [rss_mib(cluster.procs[i].pid) for i in (0, 1, 2)]
            samples = failover(cluster, ROUNDS)
            cluster.stop()
            shutil.rmtree(root, ignore_errors=True)
            results[kind.name] = (startup, rss, samples)
    finally:
        for p in processes:
            kill(p)

    print(f"| measure ({STARTUP_RUNS} formations, {ROUNDS} failovers) | " + " | ".join(results) + " |")
    print("| --- | " + " | ".join("---" for _ in results) + " |")
    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(*v) for v in results.values()) + " |")
    # Samples come in formation order: node 1, 2, 3. o3storage's node 1 bootstraps alone, 2 and 3 join it;
    # etcd's three start together and serve once they have elected a leader.
    row("start to first /health 200, first node, median ms", lambda s, r, f: f"{statistics.median(s[0::3]):.0f}")
    row("start to first /health 200, other nodes, median ms", lambda s, r, f: f"{statistics.median(s[1::3] + s[2::3]):.0f}")
    row("start to first /health 200, any node, max ms", lambda s, r, f: f"{max(s):.0f}")
    row("idle RSS per node, MiB", lambda s, r, f: " / ".join(f"{x:.1f}" for x in r))
    row("kill -9 leader to new leader, median ms", lambda s, r, f: f"{statistics.median(f):.0f}")
    row("kill -9 leader to new leader, min-max ms", lambda s, r, f: f"{min(f):.0f}-{max(f):.0f}")
    o3, etcd = list(results.values())
    print(f"\nratio o3storage/etcd: all-nodes startup median {statistics.median(o3[0]) / statistics.median(etcd[0]):.2f}, "
          f"RSS {statistics.mean(o3[1]) / statistics.mean(etcd[1]):.2f}, failover median {statistics.median(o3[2]) / statistics.median(etcd[2]):.2f}")
    print("o3storage startup samples ms: " + ", ".join(f"{x:.0f}" for x in o3[0]))
    print("o3storage failover samples ms: " + ", ".join(f"{x:.0f}" for x in o3[2]))
    print("etcd failover samples ms: " + ", ".join(f"{x:.0f}" for x in etcd[2]))


if __name__ == "__main__":
    main()
