#!/usr/bin/python3
"""The Debian package, installed on this machine as an operator would, then purged.

Installing a package and creating a system user changes the machine, so this runs only with
HERALD_TEST_PACKAGE=1 (.ci/run sets it; CI is a fresh Debian 12 machine, as root) and exits 77
(ctest: skipped) otherwise. It never touches a herald package that was installed before it.

1. CPack builds herald_<version>_<arch>.deb from this build tree's install rules, in a temporary
   directory; its control data names adduser and its conffile.
2. `apt-get install ./herald_*.deb`: the user herald (system, no login), /var/lib/herald (herald,
   0750), /etc/herald/herald.yaml (a conffile, root:herald 0640), the unit enabled.
3. `systemd-analyze verify` passes on the installed unit (offline: it needs no running systemd)
   and `systemd-analyze security --offline` rates its exposure at most 2.0.
4. The installed binary serves with the packaged config: the unit's own ExecStart, run directly
   as the user herald with --listen 127.0.0.1:0 appended (where systemd runs, the service the
   package started is stopped first); /health answers, a publication is kept in /var/lib/herald,
   SIGTERM to its pid stops it with exit code 0.
5. Always, even after a failure: that process killed, `apt-get purge herald`, then nothing left
   (binary, config, unit enablement, /var/lib/herald), and the user removed if it did not exist
   before.

Usage: HERALD_TEST_PACKAGE=1 /usr/bin/python3 test_package.py --build build/ci
"""

import argparse
import glob
import grp
import json
import os
import pwd
import re
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import urllib.request

SKIP = 77
UNIT = "/lib/systemd/system/herald.service"
CONFIG = "/etc/herald/herald.yaml"
STATE = "/var/lib/herald"
WANTS = "/etc/systemd/system/multi-user.target.wants/herald.service"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"]

failures = []
server = None


def check(cond, what, got=""):
    if cond:
        print(f"  ok   {what}", flush=True)
        return True
    failures.append(what)
    print(f"  FAIL {what}" + (f"\n      got: {got}" if got != "" else ""), flush=True)
    return False


def run(argv, timeout=300, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def installed(package):
    r = run(["dpkg-query", "-W", "-f=${Status}", package])
    return r.returncode == 0 and "install ok installed" in r.stdout


def build_deb(build, out):
    r = run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B",
             out], timeout=600)
    debs = glob.glob(os.path.join(out, "herald_*.deb"))
    if not check(r.returncode == 0 and len(debs) == 1, "cpack -G DEB builds one herald_*.deb",
                 r.stdout[-1500:] + r.stderr[-1500:]):
        return None
    deb = debs[0]
    info = run(["dpkg-deb", "-f", deb, "Package", "Depends"]).stdout
    check("Package: herald" in info and re.search(r"\badduser\b", info) and "libssl" in info,
          "control: package herald, depending on adduser and (dpkg-shlibdeps) libssl", info)
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout
    check(conffiles.strip() == CONFIG, f"control: {CONFIG} is the one conffile", conffiles)
    listing = run(["dpkg-deb", "-c", deb]).stdout
    for path in ("./usr/bin/herald", "./etc/herald/herald.yaml", "." + UNIT,
                 "./usr/share/doc/herald/DEPLOY.md",
                 "./usr/share/doc/herald/examples/nginx/herald.conf"):
        check(re.search(rf" {re.escape(path)}$", listing, re.M), f"the package holds {path}")
    return deb


def check_installed():
    try:
        user = pwd.getpwnam("herald")
        check(user.pw_uid < 1000 and user.pw_shell.endswith("nologin"),
              "user herald: a system user without a login shell",
              f"uid {user.pw_uid} shell {user.pw_shell}")
    except KeyError:
        check(False, "user herald exists after the install")
        return
    st = os.stat(STATE)
    check(st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o750,
          f"{STATE} owned by herald, mode 0750", f"uid {st.st_uid} mode {oct(st.st_mode)}")
    st = os.stat(CONFIG)
    check(st.st_uid == 0 and st.st_gid == grp.getgrnam("herald").gr_gid and
          stat.S_IMODE(st.st_mode) == 0o640, f"{CONFIG} root:herald 0640 (it may hold secrets)",
          f"{st.st_uid}:{st.st_gid} {oct(st.st_mode)}")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "herald"]).stdout
    check(CONFIG in conffiles, f"{CONFIG} is a conffile", conffiles)
    with open(CONFIG) as f:
        check(re.search(r"^data_dir: /var/lib/herald$", f.read(), re.M),
              "the packaged config keeps history in /var/lib/herald")
    check(os.path.islink(WANTS), "the unit is enabled (multi-user.target.wants)")
    ldd = run(["ldd", "/usr/bin/herald"]).stdout
    check("not found" not in ldd, "every library of /usr/bin/herald is installed", ldd)


def check_unit():
    r = run(["systemd-analyze", "verify", UNIT], timeout=60)
    check(r.returncode == 0 and "herald.service" not in r.stdout + r.stderr,
          "systemd-analyze verify passes on the installed unit", r.stdout + r.stderr)
    r = run(["systemd-analyze", "security", "--offline=true", UNIT], timeout=60)
    m = re.search(r"Overall exposure level for herald.service: ([0-9.]+)", r.stdout)
    check(m is not None and float(m.group(1)) <= 2.0,
          "systemd-analyze security: exposure at most 2.0 (hardened)",
          m.group(0) if m else r.stdout[-500:] + r.stderr[-500:])
    with open(UNIT) as f:
        unit = f.read()
    for line in ("User=herald", "StateDirectory=herald", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"):
        check(re.search(rf"^{re.escape(line)}$", unit, re.M), f"the unit has {line}")
    return re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)


def serve_as_herald(exec_start):
    """The unit's command as the user herald, on a free loopback port."""
    global server
    if os.path.isdir("/run/systemd/system"):
        run(["systemctl", "stop", "herald.service"], timeout=60)  # started by the postinst
    argv = ["setpriv", "--reuid=herald", "--regid=herald", "--init-groups", "--"]
    argv += shlex.split(exec_start) + ["--listen", "127.0.0.1:0"]
    print(f"  run  {' '.join(argv)}", flush=True)
    err = tempfile.TemporaryFile()
    server = subprocess.Popen(argv, cwd=STATE, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=err)
    ready, _, _ = select.select([server.stdout], [], [], 15)
    line = server.stdout.readline().decode() if ready else ""
    m = re.match(r"^herald listening on http://127\.0\.0\.1:(\d+)$", line.strip())
    err.seek(0)
    if not check(m is not None, "the installed herald serves with the packaged config, as herald",
                 f"{line!r}; stderr: {err.read().decode()[-1500:]}"):
        return
    port = int(m.group(1))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
        check(r.status == 200 and json.loads(r.read()) == {"status": "ok"}, "GET /health: 200")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/publish", method="POST",
                                 data=b'{"channel":"news","data":{"kept":true}}')
    with urllib.request.urlopen(req, timeout=5) as r:
        check(r.status == 200, "a publication through the server API")
    files = os.listdir(STATE)
    check(files and all(os.stat(os.path.join(STATE, f)).st_uid == pwd.getpwnam("herald").pw_uid
                        for f in files),
          f"history written to {STATE} by herald", files)
    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, "SIGTERM to its pid: drained, exit code 0", rc)


def purge(user_existed):
    global server
    if server is not None and server.poll() is None:
        server.kill()
        server.wait(timeout=10)
    r = run(APT + ["purge", "herald"], env=APT_ENV)
    check(r.returncode == 0, "apt-get purge herald", r.stdout[-1000:] + r.stderr[-1000:])
    for path in ("/usr/bin/herald", CONFIG, "/etc/herald", UNIT, WANTS, STATE):
        check(not os.path.lexists(path), f"{path} gone after the purge")
    if not user_existed:
        run(["userdel", "herald"])
        try:
            grp.getgrnam("herald")
            run(["groupdel", "herald"])
        except KeyError:
            pass
        check(run(["getent", "passwd", "herald"]).returncode != 0,
              "the user herald removed (it did not exist before the test)")


def main():
    ap = argparse.ArgumentParser(description="Herald: the Debian package")
    ap.add_argument("--build", required=True, help="the CMake build directory (CPackConfig)")
    opts = ap.parse_args()
    if os.environ.get("HERALD_TEST_PACKAGE") != "1":
        print("skipped: installs a package and adds a system user; HERALD_TEST_PACKAGE=1 runs it "
              "(.ci/run does)", flush=True)
        sys.exit(SKIP)
    if os.geteuid() != 0:
        print("FAIL: HERALD_TEST_PACKAGE=1 needs root (apt-get install, a system user)",
              flush=True)
        sys.exit(1)
    if installed("herald"):
        print("skipped: a herald package is installed on this machine; not touching it",
              flush=True)
        sys.exit(SKIP)
    for tool in ("cpack", "dpkg-shlibdeps", "systemd-analyze", "setpriv", "apt-get"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} not found (scripts/deps --test installs it)", flush=True)
            sys.exit(1)
    print("== package: build, install, verify, serve, purge", flush=True)
    user_existed = run(["getent", "passwd", "herald"]).returncode == 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest's timeout: still purge
    with tempfile.TemporaryDirectory(prefix="herald-deb-") as out:
        deb = build_deb(opts.build, out)
        if deb is None:
            sys.exit(1)
        try:
            r = run(APT + ["install", f"./{os.path.basename(deb)}"], cwd=out, env=APT_ENV)
            if check(r.returncode == 0, "apt-get install ./herald_*.deb",
                     r.stdout[-1500:] + r.stderr[-1500:]):
                check_installed()
                serve_as_herald(check_unit())
        finally:
            purge(user_existed)
    if failures:
        print(f"== package: {len(failures)} FAILED", flush=True)
        sys.exit(1)
    print("== package: all passed", flush=True)


if __name__ == "__main__":
    main()
