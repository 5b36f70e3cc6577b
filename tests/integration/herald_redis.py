"""A real redis-server for the integration tests (Debian's redis-server, installed by
scripts/deps --test): started on a free loopback port, without persistence unless asked, and
stopped by its pid only. pause()/resume() send SIGSTOP/SIGCONT; restart() starts it again on the
same port (without persistence its data is gone, as after a crash). With tls (a TlsFiles) it
listens on a TLS port only (`--port 0 --tls-port P`) and url is rediss://.

With `--broker redis` (Suite.main), every Herald a suite starts gets `--redis URL` and a key
prefix of the case being run (server_args()), so the cases of a suite never see each other's
channels, while a case that restarts its server keeps its own.
"""

import argparse
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from herald_checks import Failure, step

SERVER = None  # the suite's RedisServer with --broker redis
CASE_PREFIX = "it"  # set by Suite.main before each case


def available():
    return shutil.which("redis-server") is not None


def suite_options(description, more=None):
    """The command line of a suite that starts its own Redis: --herald, -k SUBSTRING (repeated:
    the cases whose name holds any) and what more(parser) adds. Exits 1 without redis-server."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--herald", required=True)
    ap.add_argument("-k", action="append", default=[])
    if more is not None:
        more(ap)
    opts = ap.parse_args()
    if not available():
        print("FAIL: redis-server not found (scripts/deps --test installs it)", flush=True)
        sys.exit(1)
    return opts


def selected(cases, opts):
    """The cases -k selects (all without -k)."""
    return [c for c in cases if not opts.k or any(k in c[0] for k in opts.k)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_cluster_port():
    """A free port P whose cluster bus port P + 10000 is free too (and below 65536)."""
    for _ in range(200):
        port = random.randint(20000, 55000)
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise Failure("pick a port for a Redis Cluster node", "a free pair P, P+10000", "none")


class TlsFiles:
    """What a TLS redis-server uses: its certificate and key, the CA it checks client
    certificates against, and whether it requires one (`tls-auth-clients`)."""

    def __init__(self, cert, key, ca, auth_clients=False):
        self.cert, self.key, self.ca, self.auth_clients = cert, key, ca, auth_clients


class RedisServer:
    """One redis-server child. Owned by the test; stopped by its pid."""

    def __init__(self, persistent=False, cluster=False, tls=None, node_timeout_ms=5000):
        self.tls = tls
        self.node_timeout_ms = node_timeout_ms  # a cluster node's cluster-node-timeout
        self.port = free_cluster_port() if cluster else free_port()
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="herald-redis-")
        _dirs.append(self.dir)
        self.persistent = persistent
        self.cluster = cluster  # a Redis Cluster node (create_cluster() joins them)

    @property
    def url(self):
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}"

    def cli_args(self):
        """redis-cli's connection options for this server."""
        return ["-p", str(self.port), *self.tls_args()]

    def tls_args(self):
        """redis-cli's TLS options for this server (none without TLS)."""
        args = []
        if self.tls:
            args += ["--tls", "--cacert", self.tls.ca]
            if self.tls.auth_clients:
                args += ["--cert", self.tls.cert, "--key", self.tls.key]
        return args

    def start(self, timeout=10):
        step(f"start redis-server on port {self.port}")
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--loglevel", "warning", "--daemonize", "no"]
        if self.tls:
            args[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", self.tls.cert, "--tls-key-file", self.tls.key,
                     "--tls-ca-cert-file", self.tls.ca,
                     "--tls-auth-clients", "yes" if self.tls.auth_clients else "no"]
            if self.cluster:
                args += ["--tls-cluster", "yes"]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        else:
            args += ["--save", "", "--appendonly", "no"]
        if self.cluster:
            # nodes.conf stays in dir: a node started again keeps its id and slots (not its data).
            args += ["--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(self.dir, "nodes.conf"), "--cluster-node-timeout",
                     str(self.node_timeout_ms)]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _live.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return self
            time.sleep(0.02)
        raise Failure("start redis-server", f"PONG within {timeout}s", "nothing")

    def ping(self):
        if self.tls:
            return self.command("PING") == "PONG"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args):
        """One command through redis-cli (for checks); returns its output."""
        out = subprocess.run(["redis-cli", *self.cli_args(), *args], capture_output=True,
                             timeout=10, check=False)
        return out.stdout.decode().strip()

    def pause(self):
        step(f"SIGSTOP redis-server (pid {self.proc.pid})")
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        step(f"SIGCONT redis-server (pid {self.proc.pid})")
        self.proc.send_signal(signal.SIGCONT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)
        _live.discard(self)

    def restart(self):
        """Kill and start again on the same port: without persistence, everything is lost."""
        step(f"restart redis-server on port {self.port} ({'with' if self.persistent else 'no'} "
             "persistence)")
        self.stop()
        return self.start()


def create_cluster(servers, timeout=30, replicas=0):
    """Joins cluster-enabled servers into one Redis Cluster with `redis-cli --cluster create`
    (`replicas` per master), and waits until every node says cluster_state:ok."""
    step(f"redis-cli --cluster create on ports {[s.port for s in servers]}")
    out = subprocess.run(["redis-cli", *servers[0].tls_args(), "--cluster", "create",
                          *[f"127.0.0.1:{s.port}" for s in servers],
                          "--cluster-replicas", str(replicas), "--cluster-yes"],
                         capture_output=True, timeout=60, check=False)
    if out.returncode != 0:
        raise Failure("redis-cli --cluster create", "exit 0",
                      f"{out.returncode}: {out.stdout.decode()[-500:]} {out.stderr.decode()[-500:]}")
    deadline = time.monotonic() + timeout
    while not all("cluster_state:ok" in s.command("CLUSTER", "INFO") for s in servers):
        if time.monotonic() > deadline:
            raise Failure("the cluster is ok", "cluster_state:ok on every node",
                          [s.command("CLUSTER", "INFO")[:60] for s in servers])
        time.sleep(0.1)


def wait_cluster_ok(servers, timeout=30):
    deadline = time.monotonic() + timeout
    while not all("cluster_state:ok" in s.command("CLUSTER", "INFO") for s in servers):
        if time.monotonic() > deadline:
            raise Failure("the cluster is ok again", "cluster_state:ok on every node", "not yet")
        time.sleep(0.1)


_live = set()
_dirs = []  # every server's directory, stopped or not: removed at exit


@atexit.register
def _stop_all():
    for r in list(_live):
        try:
            r.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


def server_args():
    """What a Herald needs to run on the suite's Redis (none without --broker redis)."""
    if SERVER is None:
        return ()
    return ("--redis", SERVER.url, "--redis-prefix", CASE_PREFIX)
