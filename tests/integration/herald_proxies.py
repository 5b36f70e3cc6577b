"""Real nginx and HAProxy (Debian's packages, installed by scripts/deps --test) in front of Herald
nodes, running the files of deploy/ as an operator would install them.

The only edits are addresses: the nodes 10.0.0.11:8080 and 10.0.0.12:8080 of the deploy files
become the test's nodes on 127.0.0.1, and the public port 80 becomes a free loopback port. Each
edit must happen (a deploy file that no longer has the line fails the test instead of testing
something else). nginx gets a minimal main config around the file (as Debian's nginx.conf
includes conf.d/*.conf in its http block); HAProxy a minimal `global` section before it (as
Debian's haproxy.cfg has). Both run in the foreground, with every path (pid, logs, temp files)
in a temporary directory, and are stopped by their pid only.
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from herald_checks import Failure, step
from herald_redis import free_port

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")
NODE_ADDRESSES = ("10.0.0.11:8080", "10.0.0.12:8080")


def render(text, nodes, port, listen_pattern, listen_replacement):
    """The deploy file with the test's node and listen addresses; fails if one is missing."""
    for address, node in zip(NODE_ADDRESSES, nodes):
        if address not in text:
            raise Failure("render the deploy config", f"node address {address} in it", "absent")
        text = text.replace(address, f"127.0.0.1:{node.port}")
    text, n = re.subn(listen_pattern, listen_replacement.format(port=port), text)
    if n != 1:
        raise Failure("render the deploy config", f"one line matching {listen_pattern!r}",
                      f"{n} lines")
    if "10.0.0." in text:
        raise Failure("render the deploy config", "no other 10.0.0.x address",
                      re.findall(r".*10\.0\.0\..*", text))
    return text


class Proxy:
    """One nginx or haproxy child in front of `nodes`. Owned by the test; stopped by its pid."""

    name = "proxy"

    def __init__(self, nodes):
        self.nodes = nodes
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"herald-{self.name}-")
        os.chmod(self.dir, 0o755)  # nginx workers may run as another user
        self.proc = None
        self._log = None

    def argv(self):
        raise NotImplementedError

    def start(self, timeout=15):
        argv = self.argv()
        step(f"start {self.name} on 127.0.0.1:{self.port} in front of nodes "
             f"{[n.port for n in self.nodes]}")
        self._log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        _live.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"start {self.name}", "a running proxy",
                              f"exit code {self.proc.returncode}: {self.log_tail()}")
            # Ready when a request reaches a node through it.
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure(f"start {self.name}", f"/health through it within {timeout}s",
                      self.log_tail())

    def log_tail(self, lines=15):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), "rb") as f:
                    text = f.read().decode("utf-8", "replace").splitlines()[-lines:]
                out += [f"{name}: {t}" for t in text]
        return "\n        | " + "\n        | ".join(out) if out else "(no log)"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log:
            self._log.close()
        _live.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx(Proxy):
    name = "nginx"
    config = os.path.join(DEPLOY, "nginx", "herald.conf")

    def argv(self):
        with open(self.config) as f:
            site = render(f.read(), self.nodes, self.port, r"(?m)^    listen 80;$",
                          "    listen 127.0.0.1:{port};")
        site_path = os.path.join(self.dir, "herald.conf")
        with open(site_path, "w") as f:
            f.write(site)
        d = self.dir
        # As root, nginx's workers would run as nobody; keep them as the test's user (the temp
        # directories must be theirs).
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = (f"{user}worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\n"
                f"error_log {d}/error.log info;\nevents {{ worker_connections 1024; }}\n"
                f"http {{\n  access_log {d}/access.log;\n"
                f"  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n"
                f"  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n"
                f"  scgi_temp_path {d}/scgi;\n  include {site_path};\n}}\n")
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(main)
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-e", f"{d}/error.log",
                "-c", os.path.join(d, "nginx.conf")]

    def check_installed_way(self):
        """`nginx -t` on Debian's own nginx.conf with the file unchanged as its conf.d/herald.conf:
        the installation docs/DEPLOY.md describes. Returns (ok, output)."""
        with open("/etc/nginx/nginx.conf") as f:
            main = f.read()
        include = "include /etc/nginx/conf.d/*.conf;"
        if include not in main:
            return False, f"no '{include}' in Debian's /etc/nginx/nginx.conf"
        main = main.replace(include, f"include {os.path.abspath(self.config)};")
        main = main.replace("include /etc/nginx/sites-enabled/*;", "")  # the default site
        path = os.path.join(self.dir, "debian-nginx.conf")
        with open(path, "w") as f:
            f.write(main)
        out = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-t", "-q", "-e",
                              f"{self.dir}/t.log", "-c", path], capture_output=True, text=True,
                             timeout=30)
        return out.returncode == 0, out.stdout + out.stderr


class Haproxy(Proxy):
    name = "haproxy"
    config = os.path.join(DEPLOY, "haproxy", "herald.cfg")

    def argv(self):
        with open(self.config) as f:
            cfg = render(f.read(), self.nodes, self.port, r"(?m)^    bind :80$",
                         "    bind 127.0.0.1:{port}")
        cfg_path = os.path.join(self.dir, "herald.cfg")
        with open(cfg_path, "w") as f:
            f.write(cfg)
        global_path = os.path.join(self.dir, "global.cfg")
        with open(global_path, "w") as f:
            f.write("global\n    maxconn 1000\n    log stderr format raw local0 notice\n")
        # -db: foreground, no daemon; the files in order, as one configuration.
        return [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", global_path,
                "-f", cfg_path]

    def check_installed_way(self):
        """`haproxy -c` on Debian's own haproxy.cfg followed by the file unchanged: the
        installation docs/DEPLOY.md describes. Returns (ok, output)."""
        out = subprocess.run([shutil.which("haproxy") or "/usr/sbin/haproxy", "-c", "-q", "-f",
                              "/etc/haproxy/haproxy.cfg", "-f", os.path.abspath(self.config)],
                             capture_output=True, text=True, timeout=30)
        return out.returncode == 0, out.stdout + out.stderr


def available():
    missing = [p for p in ("nginx", "haproxy") if shutil.which(p) is None and
               not os.path.exists(f"/usr/sbin/{p}")]
    return missing


_live = set()


@atexit.register
def _stop_all():
    for p in list(_live):
        try:
            p.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
