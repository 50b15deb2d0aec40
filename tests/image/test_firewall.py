"""The image's firewall (image/rootfs/etc/o3storage/nftables.conf) and its ufw front-end, loaded into a network
namespace the test makes ("board", 198.18.0.1) and reached from two others ("peer" 198.18.0.2 and
"stranger" 198.18.0.3): 198.18.0.0/15 is not a local network, so by default nothing but replies gets
in; the guide's cluster-firewall.sh lines open the node's ports to what they name and nothing else,
and never SSH or mDNS to anyone they name.

Run: python3 -m unittest discover -s tests/image   (as root; needs nft and ip)
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROOTFS = os.path.join(REPO, "image", "rootfs")
UFW = os.path.join(ROOTFS, "usr", "sbin", "ufw")
PORTS = (22, 8080, 8090, 9000)
NAMESPACES = {"board": "198.18.0.1", "peer": "198.18.0.2", "stranger": "198.18.0.3"}
LISTENER = """
import socket, threading, time
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.sendall(b"hi"); c.close()
for p in (%s,):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
time.sleep(120)
""" % ", ".join(str(p) for p in PORTS)


def run(*args, check=True, env=None):
    return subprocess.run(list(args), capture_output=True, text=True, check=check, env=env)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("nft") and shutil.which("ip"), "needs root, nft and ip")
class FirewallTests(unittest.TestCase):
    _count = 0

    def setUp(self):
        # Names of their own per test: a deleted namespace's veth goes away a moment later.
        FirewallTests._count += 1
        self.prefix = f"o3f{os.getpid() % 1000}{FirewallTests._count}"
        self.directory = tempfile.mkdtemp(prefix="o3-firewall-")
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        self.etc = os.path.join(self.directory, "o3storage")
        os.makedirs(self.etc)
        for name in ("firewall-node.nft", "firewall-local.nft"):
            shutil.copy(os.path.join(ROOTFS, "etc", "o3storage", name), self.etc)
        with open(os.path.join(ROOTFS, "etc", "o3storage", "nftables.conf")) as f:
            conf = f.read().replace('include "/etc/o3storage/', f'include "{self.etc}/')
        self.conf = os.path.join(self.directory, "nftables.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        run("ip", "link", "add", f"{self.prefix}br", "type", "bridge")
        self.addCleanup(run, "ip", "link", "delete", f"{self.prefix}br", check=False)
        run("ip", "link", "set", f"{self.prefix}br", "up")
        for i, (name, address) in enumerate(NAMESPACES.items()):
            ns = self.ns(name)
            run("ip", "netns", "add", ns)
            self.addCleanup(run, "ip", "netns", "delete", ns, check=False)
            run("ip", "link", "add", f"{self.prefix}v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            run("ip", "link", "set", f"{self.prefix}v{i}", "master", f"{self.prefix}br", "up")
            run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{address}/24", "dev", "eth0")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        listener = subprocess.Popen(["ip", "netns", "exec", self.ns("board"), "python3", "-c", LISTENER])
        self.addCleanup(listener.wait)
        self.addCleanup(listener.kill)
        time.sleep(0.5)
        run(*self.as_board("nft", "-f", self.conf))

    def as_board(self, *command):
        """COMMAND in the board's namespace, seeing no /etc/protocols or /etc/services, as on the image (no netbase)."""
        return ["ip", "netns", "exec", self.ns("board"), "unshare", "-m", "sh", "-c",
                'mount --bind /dev/null /etc/protocols && mount --bind /dev/null /etc/services && exec "$@"', "sh", *command]

    def ns(self, name):
        return f"{self.prefix}-{name}"

    def reaches(self, source, port):
        """Whether a connection from namespace SOURCE to the board's PORT is answered (within 1 s)."""
        probe = f"import socket; s = socket.create_connection(('{NAMESPACES['board']}', {port}), timeout=1); print(s.recv(2).decode())"
        result = run("ip", "netns", "exec", self.ns(source), "python3", "-c", probe, check=False)
        return result.stdout.strip() == "hi"

    def ufw(self, *args):
        env = dict(os.environ, O3_FIREWALL_DIR=self.etc, O3_FIREWALL_CONF=self.conf)
        return run(*self.as_board("bash", UFW, *args), env=env, check=False)

    def test_by_default_only_local_networks_get_in(self):
        for port in PORTS:
            self.assertFalse(self.reaches("peer", port), f"port {port} from 198.18.0.2, not a local network")
        self.assertTrue(self.reaches("board", 8080), "the board itself reaches its node (loopback)")

    def test_local_networks_from_o3storage_txt_are_local(self):
        # What the first boot writes for local_networks=10.1.0.0/16,198.18.0.0/15,fd7a:115c:a1e0::/48:
        # 10.1.0.0/16 lies inside 10.0.0.0/8 (the set merges it rather than refusing the whole file).
        with open(os.path.join(self.etc, "firewall-local.nft"), "w") as f:
            f.write("add element inet o3storage local4 { 10.1.0.0/16, 198.18.0.0/15 }\n"
                    "add element inet o3storage local6 { fd7a:115c:a1e0::/48 }\n")
        loaded = run(*self.as_board("nft", "-f", self.conf), check=False)
        self.assertEqual(loaded.returncode, 0, loaded.stderr)
        for port in (22, 8080, 8090):
            self.assertTrue(self.reaches("peer", port), f"port {port} from 198.18.0.2, now a local network")
        self.assertFalse(self.reaches("peer", 9000), "a port no rule opens")
        # ufw's rules still decide the node's ports; SSH stays open to the local networks.
        for args in (["allow", "from", "198.18.0.3", "to", "any", "port", "8080"], ["--force", "enable"]):
            self.assertEqual(self.ufw(*args).returncode, 0)
        self.assertFalse(self.reaches("peer", 8080))
        self.assertTrue(self.reaches("stranger", 8080))
        self.assertTrue(self.reaches("peer", 22))

    def test_the_guides_cluster_firewall_opens_the_node_ports_to_what_it_names_never_ssh_to_anyone(self):
        # The lines cluster-firewall.sh runs on each node, with the peer as the cluster and as a client.
        for args in (["--force", "reset"],
                     ["allow", "from", "198.18.0.2", "to", "any", "port", "8080"],
                     ["allow", "from", "198.18.0.2", "to", "any", "port", "8090"],
                     ["allow", "from", "198.18.0.2/32", "to", "any", "port", "8080"],
                     ["--force", "enable"]):
            done = self.ufw(*args)
            self.assertEqual(done.returncode, 0, f"ufw {' '.join(args)}: {done.stderr}")
        self.assertTrue(self.reaches("peer", 8080))
        self.assertTrue(self.reaches("peer", 8090))
        self.assertFalse(self.reaches("peer", 9000), "a port nothing allowed")
        self.assertFalse(self.reaches("stranger", 8080), "a host the rules do not name")
        self.assertFalse(self.reaches("peer", 22), "SSH stays for local networks: an allow for 8080 never opens it")
        self.assertIn("8090/tcp", self.ufw("status").stdout)

        # Allowed while enabled: in force at once. Reset: the defaults again.
        self.assertEqual(self.ufw("allow", "from", "198.18.0.3", "to", "any", "port", "8080").returncode, 0)
        self.assertTrue(self.reaches("stranger", 8080))
        self.assertEqual(self.ufw("--force", "reset").returncode, 0)
        self.assertFalse(self.reaches("peer", 8080))
        self.assertIn("inactive", self.ufw("status").stdout)

    def test_what_it_does_not_understand_is_refused_and_changes_nothing(self):
        self.assertEqual(self.ufw("--force", "enable").returncode, 0)
        for args, said in ((["deny", "22"], "not understood"),
                           (["allow", "from", "192.168.1.0/24;drop", "to", "any", "port", "8080"], "not an address"),
                           (["allow", "from", "198.18.0.2", "to", "any", "port", "http"], "a port number is needed"),
                           (["allow", "from", "198.18.0.2", "to", "10.0.0.1", "port", "8080"], "only 'to any'")):
            refused = self.ufw(*args)
            self.assertNotEqual(refused.returncode, 0, args)
            self.assertIn(said, refused.stderr)
        self.assertFalse(self.reaches("peer", 8080))
        with open(os.path.join(self.etc, "ufw.rules")) as f:
            self.assertEqual(f.read(), "")


if __name__ == "__main__":
    unittest.main()
