#!/usr/bin/env python3
"""End-to-end first boot over real mDNS: isolated hosts with their own D-Bus and avahi-daemon
(tests/firstboot/lan.sh) start the real node with --discover and no peers configured.

Checks, in order:
  1. three boards started together form one 3-node cluster: exactly one bootstraps, two join;
     the time from start to three active nodes is printed ("firstboot-seconds: N");
  2. a host-name collision (two hosts named alike) and a service-name collision (a decoy already
     holds the name a node wants) are resolved by avahi's alternative names, and the decoy's foreign
     TXT is ignored;
  3. a fourth board started later joins by itself; a member whose avahi-daemon restarts is
     advertised again;
  4. a board with another join_token is not let in: over mDNS it waits and says why; asking a
     member directly (--peers) gets a refusal naming the token, and exit 1;
  5. a member restarted with the same settings resumes without a second bootstrap;
  6. an object written through the first board is read back through the late board.

Usage: test_firstboot.py BINARY   (root; needs avahi-daemon, dbus, iproute2)
Every wait is bounded; the LAN and every process are removed at the end, pass or fail.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LAN = os.path.join(HERE, "lan.sh")
TOKEN = "correct-horse-battery-staple"
CLUSTER = "fbtest"

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def lan(*args, **kwargs):
    return subprocess.run([LAN, *args], check=True, **kwargs)


class Board:
    def __init__(self, index, root, binary, token=TOKEN, extra=None):
        self.index = index
        self.ip = f"198.18.0.{index}"
        self.dir = os.path.join(root, f"h{index}")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "o3storage.txt")
        with open(self.config, "w") as f:
            # Written as a user would on Windows: CRLF line endings and a comment.
            f.write(f"# o3storage.txt for board {index}\r\ncluster_name={CLUSTER}\r\njoin_token={token}\r\nexpected_nodes=3\r\n")
        self.binary = binary
        self.extra = extra or ["--discover"]
        self.log_path = os.path.join(self.dir, "node.log")
        self.process = None

    def start(self, extra=None, env=None):
        args = [LAN, "exec", str(self.index), self.binary, "--ip", self.ip, "--port", "8080",
                "--data", os.path.join(self.dir, "data"), "--device-size", "300M",
                "--boot-config", self.config, "--join-timeout", "20", "--board", "none"] + (extra or self.extra)
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def health(self):
        return http_json(f"http://{self.ip}:8080/health", self.index)


def http_json(url, host):
    # The boards live in their own network namespaces: ask from inside the host's namespace.
    out = subprocess.run([LAN, "exec", str(host), "curl", "-s", "-m", "3", url], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout:
        return None
    try:
        return json.loads(out.stdout)
    except json.JSONDecodeError:
        return None


def active_nodes(board):
    h = board.health()
    return (h or {}).get("cluster", {}).get("active_nodes", 0)


def wait_for(predicate, timeout_s, interval_s=0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="o3-firstboot-")
    boards = []
    decoy = None
    try:
        # Board 4 shares board 1's host name, as two cards given the same hostname would.
        lan("up", "5", "o3board-1", "o3board-2", "o3board-3", "o3board-1", "o3board-5")
        boards = [Board(i, root, binary) for i in range(1, 5)]
        wrong = Board(5, root, binary, token="another-token-entirely")

        # Hosts 1 and 4 came up with one name: avahi renamed one of them (which one is a race).
        def avahi_host(i):
            return subprocess.run([LAN, "exec", str(i), "dbus-send", "--system", "--print-reply=literal", "--dest=org.freedesktop.Avahi", "/",
                                   "org.freedesktop.Avahi.Server.GetHostNameFqdn"], capture_output=True, text=True).stdout.strip()
        hosts = [avahi_host(i) for i in range(1, 6)]
        check(len(set(hosts)) == 5 and "" not in hosts, f"avahi resolved the host-name collision of hosts 1 and 4 ({hosts})")
        board1 = hosts[0].split(".")[0]

        # A decoy holds the service name board 1 will ask for, with a TXT that is not a node's.
        decoy = subprocess.Popen([LAN, "exec", "1", "avahi-publish", "-s", f"o3storage on {board1}",
                                  "_o3storage._tcp", "9", "txtvers=1", "cluster=decoy"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def decoy_up():
            out = subprocess.run([LAN, "exec", "1", "avahi-browse", "-pt", "_o3storage._tcp"], capture_output=True, text=True).stdout
            return f"o3storage\\032on\\032{board1};" in out
        check(wait_for(decoy_up, 20), "the decoy service is registered before the boards start")

        # 1. Three boards powered on together.
        started = time.monotonic()
        for b in boards[:3]:
            b.start()
        formed = wait_for(lambda: all(active_nodes(b) == 3 for b in boards[:3]), 120)
        elapsed = time.monotonic() - started
        check(formed, "three boards started together form one 3-node cluster")
        print(f"firstboot-seconds: {elapsed:.1f}", flush=True)
        logs = [b.text() for b in boards[:3]]
        bootstraps = sum("this node bootstraps cluster" in t for t in logs)
        joins = sum("discovery: joining cluster" in t for t in logs)
        check(bootstraps == 1, f"exactly one board bootstrapped (saw {bootstraps})")
        check(joins == 2, f"the two others joined (saw {joins})")
        check("this node bootstraps cluster" in logs[0], "the lowest node id (198.18.0.1) bootstrapped")
        check(all("sets no join_token" not in t for t in logs), "no open-token warning with a join_token set")
        # Nothing typed but the card's join token: the boards talk over mutual TLS with the CA the bootstrap made.
        tls = [((b.health() or {}).get("auth") or {}).get("peer_tls") or {} for b in boards[:3]]
        authorities = {t.get("authority") for t in tls}
        check(all(t.get("mode") == "mutual" for t in tls), f"every board runs mutual TLS between nodes (saw {[t.get('mode') for t in tls]})")
        check(len(authorities) == 1 and str(next(iter(authorities))).startswith("CN=o3storage cluster CA "),
              f"all three use the one cluster CA the bootstrap board made (saw {authorities})")
        enrolments = sum(t.count("enrolled 198.18.0.") for t in logs)
        check(enrolments == 2, f"the two joining boards each proved the token once to get the CA (saw {enrolments} enrolments)")
        def leds():
            return sorted(str(((b.health() or {}).get("hardware") or {}).get("led")) for b in boards[:3])
        # The LED follows /health within half a second, and peers count as reachable after their first ping.
        settled = wait_for(lambda: leds() == ["follower", "follower", "leader"], 15)
        check(settled, f"status LEDs show one leader and two followers ({leds()})")

        # 2. The name collision: board 1 renamed its service; the decoy's TXT was ignored.
        check(f"'o3storage on {board1}' is taken on this network; advertising as 'o3storage on {board1} #2'" in logs[0],
              "board 1 resolved the service-name collision with avahi's alternative name")
        def names():
            browse = subprocess.run([LAN, "exec", "2", "avahi-browse", "-rpt", "_o3storage._tcp"], capture_output=True, text=True).stdout
            return {line.split(";")[3] for line in browse.splitlines() if line.startswith("=")}
        wait_for(lambda: len(names()) >= 4, 20)
        check(len(names()) >= 4, f"decoy and three boards all visible under distinct names ({sorted(names())})")

        # 3. A late board joins by itself.
        started = time.monotonic()
        boards[3].start()
        joined = wait_for(lambda: active_nodes(boards[3]) == 4 and active_nodes(boards[0]) == 4, 90)
        print(f"late-join-seconds: {time.monotonic() - started:.1f}", flush=True)
        check(joined, "a fourth board started later joins the cluster by itself")
        check("discovery: joining cluster" in boards[3].text(), "the late board logged its join through discovery")

        # 3b. avahi-daemon restarts on a member (as an upgrade does): the node advertises itself again.
        def advertised_member(host, of_ip):
            out = subprocess.run([LAN, "exec", str(host), "avahi-browse", "-rpt", "_o3storage._tcp"], capture_output=True, text=True).stdout
            return any(f'"node={of_ip}:8080"' in line and '"state=member"' in line for line in out.splitlines() if line.startswith("="))
        check(wait_for(lambda: advertised_member(3, "198.18.0.2"), 30), "board 2 is advertised as a member")
        lan("restart-avahi", "2")
        check(wait_for(lambda: advertised_member(3, "198.18.0.2"), 30), "after avahi-daemon restarts on board 2, it is advertised as a member again")
        # Host 3 may still show board 2's old record (a goodbye missed): the node's own word is what counts.
        check(wait_for(lambda: "mDNS advert restored" in boards[1].text(), 30), "board 2 noticed the restart and said its advert is restored")

        # 4. Another join token: waits over mDNS and says why; asked directly, the cluster refuses.
        # It waits under a stand-in for systemd: it must keep asking for more start time, or
        # TimeoutStartSec would restart a board that is only waiting for its peers.
        notify_path = os.path.join(root, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(1.0)
        wrong.start(env={"NOTIFY_SOCKET": notify_path})
        said_why = wait_for(lambda: "show another join token" in wrong.text(), 30)
        check(said_why, "a board with another join_token waits and says the tokens differ")
        messages = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                messages.append(notify.recv(4096).decode())
            except socket.timeout:
                pass
        notify.close()
        extends = [m for m in messages if m.startswith("EXTEND_TIMEOUT_USEC=")]
        check(len(extends) >= 3, f"while it waits it asks systemd for more start time every round ({len(extends)} requests in 5 s)")
        waiting = wrong.health() or {}
        startup = waiting.get("startup") or {}
        check(waiting.get("status") == "starting" and startup.get("phase") == "discovering" and "show another join token" in startup.get("detail", ""),
              f"and its /health says so: status {waiting.get('status')}, phase {startup.get('phase')}, detail {startup.get('detail')!r}")
        wrong.stop()
        shutil.rmtree(os.path.join(wrong.dir, "data"), ignore_errors=True)
        wrong.start(extra=["--peers", "198.18.0.1"])
        try:
            code = wrong.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            code = None
            wrong.stop()
        check(code == 1, f"joining with --peers and the wrong token exits 1 (exit {code})")
        check("wrong join token" in wrong.text(), "and says the join token is wrong")
        check(active_nodes(boards[0]) == 4, "the cluster still has four members")

        # 5. A member restarts: it resumes, nobody bootstraps again.
        boards[1].stop()
        boards[1].start()
        resumed = wait_for(lambda: active_nodes(boards[1]) == 4, 60)
        check(resumed, "a restarted member resumes with the cluster")
        total_bootstraps = sum(b.text().count("this node bootstraps cluster") for b in boards)
        check(total_bootstraps == 1, f"still exactly one bootstrap in all logs (saw {total_bootstraps})")

        # 6. Closed with no typing: one first admin key, a copy on every board (mode 600), nothing without it.
        def first_key(b):
            path = os.path.join(b.dir, "data", "first-admin-key")
            return (open(path).read().strip().split(":")[1], oct(os.stat(path).st_mode & 0o777)) if os.path.exists(path) else (None, None)
        wait_for(lambda: all(first_key(b)[0] for b in boards), 30)
        copies = [first_key(b) for b in boards]
        check(len({c[0] for c in copies}) == 1 and copies[0][0] is not None, f"every board holds the same first admin key ({sum(1 for c in copies if c[0])} copies)")
        check(all(c[1] == "0o600" for c in copies), f"each copy is readable by the node's user only ({[c[1] for c in copies]})")
        key = copies[0][0] or ""
        anonymous = subprocess.run([LAN, "exec", "1", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "http://198.18.0.1:8080/firstboot"],
                                   capture_output=True, text=True).stdout
        check(anonymous == "403", f"a call without a key is refused ({anonymous})")

        # 7. Data written through board 1 reads back through the late board.
        bearer = f"Authorization: Bearer {key}"
        put = subprocess.run([LAN, "exec", "1", "sh", "-c",
                              f"curl -sf -H '{bearer}' -X PUT http://198.18.0.1:8080/firstboot && "
                              f"printf 'hello from board 1' | curl -sf -H '{bearer}' -X PUT --data-binary @- http://198.18.0.1:8080/firstboot/greeting"],
                             capture_output=True, text=True)
        check(put.returncode == 0, f"bucket and object written through board 1 with the first admin key ({put.stderr.strip()})")
        got = subprocess.run([LAN, "exec", "4", "curl", "-sf", "-H", bearer, "http://198.18.0.4:8080/firstboot/greeting"],
                             capture_output=True, text=True).stdout
        check(got == "hello from board 1", f"the object reads back through the late board ({got!r})")
    finally:
        for b in boards:
            b.stop()
        if decoy:
            decoy.kill()
        subprocess.run([LAN, "down"])
        if failures or os.environ.get("O3_KEEP_LOGS"):
            print(f"logs kept in {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)

    print(f"firstboot: {'FAILED' if failures else 'passed'} ({len(failures)} failures)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
