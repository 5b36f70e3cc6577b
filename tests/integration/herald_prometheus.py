"""A real Prometheus server (Debian's `prometheus` package) for the metrics tests, and promtool.

PrometheusServer writes a config that scrapes the given targets every second, starts
`prometheus` on a free loopback port with its own data directory, and is stopped by its pid
(by the case in `finally`, and at exit as a last resort). Queries go through its HTTP API (/api/v1/query), as Grafana's would.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from herald_checks import Failure, step

_running = []


@atexit.register
def _stop_all():
    for p in list(_running):
        p.stop()


def available():
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promtool_check_metrics(text):
    """Runs `promtool check metrics` on an exposition; returns (exit code, its output)."""
    step("promtool check metrics")
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


class PrometheusServer:
    def __init__(self, targets, interval="1s"):
        self.dir = tempfile.mkdtemp(prefix="herald-prom-")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "scrape_configs": [{"job_name": "herald", "scrape_interval": interval,
                                "scrape_timeout": interval,
                                "static_configs": [{"targets": list(targets)}]}],
        }
        self.config_path = os.path.join(self.dir, "prometheus.yml")
        with open(self.config_path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        self.proc = None
        self.log = None

    def start(self, timeout=30):
        step(f"start prometheus on 127.0.0.1:{self.port}")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        _running.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("prometheus starts", "running", f"exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready",
                                            timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("prometheus ready", "/-/ready 200", f"not in {timeout} s: {self.log_tail()}")

    def query(self, promql):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?" +
               urllib.parse.urlencode({"query": promql}))
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
        if body.get("status") != "success":
            raise Failure(f"query {promql}", "status success", body)
        return body["data"]["result"]

    def wait_for(self, promql, accept, what, timeout=30):
        """Queries until accept(result) is true; returns that result."""
        step(what)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.query(promql)
            if accept(last):
                return last
            time.sleep(0.25)
        raise Failure(what, f"an answer to {promql} that passes", last)

    def log_tail(self, lines=15):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _running:
            _running.remove(self)
        if self.log is not None:
            self.log.close()
            self.log = None
        shutil.rmtree(self.dir, ignore_errors=True)
