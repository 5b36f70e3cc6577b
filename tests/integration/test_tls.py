#!/usr/bin/python3
"""TLS on the real server (`herald serve --tls-cert --tls-key`), with certificates made by
`openssl req` for each run: https with curl; wss with python-websockets on /chat (a 1 MiB
message, many small ones fanned out) and on /connection/websocket (publications fanned out to
several subscribers); `openssl s_client` for the versions (1.1 refused, 1.2 and 1.3 accepted)
and ALPN; bad input on the TLS port (plain HTTP, garbage, a half ClientHello, a slow handshake)
dropped on time while others are served; close_notify on close; SIGHUP swapping the certificate
while open connections go on; a bad certificate or key failing the start with one line.

Usage: /usr/bin/python3 test_tls.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

from herald_checks import Failure, check, check_same_payload, make_text, step  # noqa: E402
from herald_harness import Herald, Suite, within  # noqa: E402
from test_protocol import Client, publish_n  # noqa: E402

suite = Suite("tls (curl, openssl s_client, python ssl + websockets)")

CERT_DIR = tempfile.mkdtemp(prefix="herald-tls-it-")
atexit.register(shutil.rmtree, CERT_DIR, True)


def make_cert(name, cn, serial, directory=CERT_DIR):
    """A P-256 self-signed certificate for 127.0.0.1 and localhost, made by `openssl req`.
    Returns (cert_path, key_path)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    step(f"openssl req: certificate {name} (CN={cn}, serial {serial:#x})")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", f"/CN={cn}", "-set_serial", str(serial),
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "openssl req makes a certificate", r.stderr)
    return cert, key


CERT, KEY = make_cert("main", "herald-tls-test", 0x5EED)
TLS_ARGS = ("--tls-cert", CERT, "--tls-key", KEY, "--memory")


def client_context(*cafiles, alpn=("http/1.1",)):
    """A verifying client context that trusts exactly these certificates."""
    ctx = ssl.create_default_context()
    for f in cafiles or (CERT,):
        ctx.load_verify_locations(cafile=f)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def metric(server, name):
    """The value of one herald_ metric, read over https."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_context(),
                                       timeout=5)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    m = re.search(rf"^{name} ([0-9]+)$", text, re.M)
    check(m is not None, f"metric {name} in /metrics", text[:300])
    return int(m.group(1))


def wait_metric(server, name, at_least, what, timeout=5):
    step(what)
    deadline = time.monotonic() + timeout
    value = metric(server, name)
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
        value = metric(server, name)
    check(value >= at_least, f"{name} >= {at_least}", value)


def https_get(server, path, ctx=None):
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx or client_context(),
                                       timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def peer_certificate(server, ctx):
    """The certificate a new TLS connection is given (as ssl's dict: subject, serialNumber)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert()


def subject_cn(cert):
    for rdn in cert["subject"]:
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


async def wss(server, path, ctx=None, what=None, **kw):
    kw.setdefault("max_size", None)
    return await within(websockets.connect(server.url(path), ssl=ctx or client_context(),
                                           ping_interval=None, close_timeout=5, open_timeout=5,
                                           **kw), 6, what or f"wss connect {path}")


HEALTH_REQUEST = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def s_client(server, *args, timeout=10):
    """openssl s_client sending GET /health (Connection: close) and reading until the server
    closes (-ign_eof): it has then printed the whole session, whatever the timing. Returns
    (rc, output)."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-servername",
            "localhost", "-CAfile", CERT, "-ign_eof"] + list(args)
    step("openssl " + " ".join(argv[1:]))
    r = subprocess.run(argv, input=HEALTH_REQUEST, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def expect_dropped(sock, within_s, what):
    """Reads (discarding) until the server closes; returns the seconds it took."""
    step(what)
    t0 = time.monotonic()
    sock.settimeout(0.2)
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if time.monotonic() - t0 > within_s:
                raise Failure(what, f"closed by the server within {within_s}s", "still open")
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        check(not chunk.startswith(b"HTTP/"), "no plaintext HTTP answer on the TLS port", chunk)
    return time.monotonic() - t0


def client_hello():
    """The bytes of a real ClientHello (python's ssl on memory BIOs)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


# --- https and wss that must work ---------------------------------------------------------------

@suite.case("curl --cacert: https GET /health -> 200; without the CA curl refuses our certificate",
            args=TLS_ARGS)
def curl_health(server):
    url = f"https://127.0.0.1:{server.port}/health"
    step(f"curl --cacert {CERT} {url}")
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", CERT, "-w",
                        "\n%{http_code} %{http_version}", url],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, "curl exit 0", f"{r.returncode}: {r.stderr}")
    body, _, status = r.stdout.rpartition("\n")
    check(status == "200 1.1", "HTTP/1.1 200 (ALPN http/1.1)", status)
    check(json.loads(body) == {"status": "ok"}, '{"status":"ok"}', body)
    step("curl without --cacert")
    r = subprocess.run(["curl", "-sS", "--max-time", "5", url], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 60, "curl exit 60 (certificate not trusted)",
          f"{r.returncode}: {r.stderr}")
    status, body = https_get(server, "/health")
    check(status == 200, "the server still answers https", status)


@suite.case("wss /chat: a 1 MiB message and 500 small ones reach 3 other clients, in order",
            args=TLS_ARGS)
async def chat_over_wss(server):
    a = await wss(server, "/chat", what="A joins /chat over wss")
    others = [await wss(server, "/chat", what=f"client {i} joins /chat over wss",
                        compression=None if i % 2 else "deflate") for i in range(3)]
    try:
        big = make_text(1024 * 1024)
        await within(a.send(big), 10, "A sends 1 MiB")
        for i, ws in enumerate(others):
            got = await within(ws.recv(), 10, f"client {i} receives the 1 MiB message")
            check_same_payload(got, big, f"client {i}'s 1 MiB message")
        small = [f"small {k} " + "x" * (k % 50) for k in range(500)]

        async def send_all():
            for text in small:
                await a.send(text)

        async def receive_all(i, ws):
            for k, expected in enumerate(small):
                got = await ws.recv()
                check(got == expected, f"client {i}: message {k} in order", got[:60])

        await within(asyncio.gather(send_all(), *(receive_all(i, ws) for i, ws in
                                                  enumerate(others))), 20,
                     "500 small messages fanned out to 3 clients")
    finally:
        for ws in [a] + others:
            await within(ws.close(), 6, "close")


@suite.case("wss /connection/websocket: 1,000 publications reach 4 subscribers once, in order",
            args=TLS_ARGS)
async def protocol_over_wss(server):
    async def open_client(name):
        ws = await wss(server, "/connection/websocket", what=f"{name} connects over wss")
        c = Client(ws)
        r = await c.call("connect")
        check("result" in r, f"{name}: a connect result", r)
        return c

    subs = [await open_client(f"subscriber {i}") for i in range(4)]
    pub = await open_client("publisher")
    try:
        for s in subs:
            await s.subscribe("tls:fanout")
        await publish_n(pub, "tls:fanout", 1000, batch=50)
        for i, s in enumerate(subs):
            await s.wait_offsets("tls:fanout", 1000)
            check(s.offsets["tls:fanout"] == list(range(1, 1001)),
                  f"subscriber {i}: offsets 1..1000 once, in order",
                  f"{len(s.offsets['tls:fanout'])} offsets")
        step("POST /api/publish over https, 60 KB of data (near the 64 KiB limit), to them all")
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=client_context(),
                                           timeout=5)
        body = json.dumps({"channel": "tls:fanout", "data": {"big": "y" * 60000}})
        conn.request("POST", "/api/publish", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        answer = resp.read()
        conn.close()
        check(resp.status == 200, "200 for the publish", (resp.status, answer[:200]))
        for s in subs:
            await s.wait_offsets("tls:fanout", 1001)
    finally:
        for c in subs + [pub]:
            await c.close()


@suite.case("the raw TCP port speaks TLS too: a subscriber gets a publication over tls://",
            args=TLS_ARGS + ("--tcp-listen", "127.0.0.1:0"))
async def tcp_over_tls(server):
    check(server.tcp_port, "a second stdout line with the TCP port", server.tcp_port)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.tcp_port, ssl=client_context(), server_hostname="127.0.0.1")
    writer.write(b'{"id":1,"method":"connect"}\n'
                 b'{"id":2,"method":"subscribe","params":{"channel":"tls:tcp"}}\n')
    await writer.drain()
    for want in (1, 2):
        reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
        check(reply.get("id") == want and "result" in reply, f"reply {want}", reply)
    ctx = client_context(alpn=None)
    req = urllib.request.Request(f"https://127.0.0.1:{server.port}/api/publish",
                                 data=b'{"channel":"tls:tcp","data":{"x":1}}')
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        check(r.status == 200, "published over https", r.status)
    push = json.loads(await asyncio.wait_for(reader.readline(), 5))
    check(push.get("push") == "message" and push["data"] == {"x": 1}, "the publication", push)
    writer.close()


@suite.case("openssl s_client: TLS 1.1 refused; TLS 1.2 and 1.3 accepted with ALPN http/1.1",
            args=TLS_ARGS)
def versions_and_alpn(server):
    errors = metric(server, "herald_tls_handshake_errors_total")
    for version in ("-tls1_2", "-tls1_3"):
        rc, out = s_client(server, version, "-alpn", "h2,http/1.1")
        name = "TLSv1.2" if version == "-tls1_2" else "TLSv1.3"
        check(rc == 0, f"s_client {version} exit 0", out[-600:])
        check(re.search(rf"Protocol\s*: {name}", out) is not None, f"protocol {name}", out[-600:])
        check("ALPN protocol: http/1.1" in out, "ALPN http/1.1 chosen over h2", out[-600:])
        check("Verify return code: 0 (ok)" in out, "our certificate verifies", out[-600:])
        check("HTTP/1.1 200" in out, "the /health answer over it", out[-600:])
    rc, out = s_client(server, "-tls1_3")
    check("No ALPN negotiated" in out, "no ALPN when the client offers none", out[-600:])
    # The client's own security level would refuse TLS 1.1 before sending anything: lower it, so
    # that it is the server that refuses.
    rc, out = s_client(server, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    check(rc != 0, "s_client -tls1_1 fails", out[-600:])
    check("alert protocol version" in out, "the server's protocol_version alert", out[-600:])
    rc, out = s_client(server, "-tls1_3", "-alpn", "h2")
    check(rc != 0 and "no application protocol" in out,
          "an h2-only client gets the no_application_protocol alert (RFC 7301)", out[-600:])
    wait_metric(server, "herald_tls_handshake_errors_total", errors + 2,
                "herald_tls_handshake_errors_total counts both refusals")
    check(metric(server, "herald_tls_handshake_errors_total") == errors + 2,
          "exactly the two refusals counted (the good handshakes are not)",
          metric(server, "herald_tls_handshake_errors_total") - errors)


@suite.case("session tickets: a second connection resumes the first one's session (1.2, 1.3)",
            args=TLS_ARGS)
def resumption(server):
    for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        session = os.path.join(CERT_DIR, f"session{version}")
        for what, flag, expect in (("first", "-sess_out", "New"), ("second", "-sess_in", "Reused")):
            # -ign_eof: read until the server closes after its answer, so that the TLS 1.3
            # tickets (sent after the handshake) have arrived.
            argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-CAfile",
                    CERT, version, "-ign_eof", flag, session]
            step(f"{name}: {what} connection ({' '.join(argv[1:])})")
            r = subprocess.run(argv, input=HEALTH_REQUEST, capture_output=True, text=True,
                               timeout=10)
            check(f"{expect}, {name}" in r.stdout, f"'{expect}, {name}'", r.stdout[-600:])
            check("HTTP/1.1 200" in r.stdout, "the /health answer", r.stdout[-300:])


@suite.case("the server closes with close_notify (Connection: close over https)", args=TLS_ARGS)
def close_notify(server):
    step("GET /health with Connection: close; read to the end with ragged EOFs reported")
    ctx = client_context()
    # Python (3.10+, OpenSSL 3) takes a bare EOF for a clean close unless told otherwise.
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost",
                             suppress_ragged_eofs=False) as tls:
            tls.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLEOFError, ssl.SSLError) as e:
                raise Failure("read to the end", "close_notify before the TCP FIN",
                              repr(e)) from None
    check(data.startswith(b"HTTP/1.1 200"), "the answer", data[:100])


# --- bad input on the TLS port ------------------------------------------------------------------

@suite.case("plain HTTP to the TLS port: closed at once, counted, others still served",
            args=TLS_ARGS)
def plain_http(server):
    errors = metric(server, "herald_tls_handshake_errors_total")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        took = expect_dropped(s, 3, "the server drops the plaintext request")
    check(took < 2, "dropped at once, not at a timeout", f"{took:.2f}s")
    wait_metric(server, "herald_tls_handshake_errors_total", errors + 1, "counted")
    check(https_get(server, "/health")[0] == 200, "https still served", "")


@suite.case("garbage instead of a ClientHello: dropped at once; a broken record too",
            args=TLS_ARGS)
def garbage(server):
    for what, data in (("512 random bytes", os.urandom(512)),
                       ("a handshake record with a garbage body",
                        b"\x16\x03\x01\x00\x10" + b"\xff" * 16),
                       ("a record header announcing 16 MiB", b"\x16\x03\x01\xff\xff" + b"\0" * 64)):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(data)
            took = expect_dropped(s, 3, f"the server drops {what}")
        check(took < 2, f"{what}: dropped at once", f"{took:.2f}s")
    check(https_get(server, "/health")[0] == 200, "https still served", "")


SLOW_ARGS = TLS_ARGS + ("--head-timeout", "1.5")


@suite.case("slowloris: half a ClientHello, or one byte every 0.2 s, dropped at head_timeout",
            args=SLOW_ARGS, timeout=40)
async def slowloris(server):
    hello = client_hello()
    check(len(hello) > 100, "a real ClientHello", len(hello))
    errors = metric(server, "herald_tls_handshake_errors_total")
    bystander = await wss(server, "/chat", what="a bystander joins /chat before")
    peer = await wss(server, "/chat", what="a second client joins /chat before")

    def half_hello():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(hello[:len(hello) // 2])
            return expect_dropped(s, 5, "half a ClientHello, then silence")

    def dribble():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            t0 = time.monotonic()
            s.setblocking(False)
            for b in hello:
                if time.monotonic() - t0 > 5:
                    raise Failure("dribble", "dropped within 5 s", "still open")
                try:
                    s.send(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - t0
                try:
                    if s.recv(1) == b"":
                        return time.monotonic() - t0
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    return time.monotonic() - t0
                time.sleep(0.2)
            s.setblocking(True)
            return expect_dropped(s, 5, "the whole ClientHello took too long") + (
                time.monotonic() - t0)

    loop = asyncio.get_running_loop()
    took = await loop.run_in_executor(None, half_hello)
    check(1.0 <= took <= 3.5, "half a ClientHello dropped at the 1.5 s head timeout", f"{took:.2f}s")
    took = await loop.run_in_executor(None, dribble)
    check(1.0 <= took <= 3.5, "a byte every 0.2 s does not extend the 1.5 s head timeout",
          f"{took:.2f}s")

    def slow_head():
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            tls = client_context().wrap_socket(raw, server_hostname="localhost")
            tls.sendall(b"GET /health HTTP/1.1\r\n")
            t0 = time.monotonic()
            tls.settimeout(5)
            try:
                while tls.recv(4096):
                    pass
            except (ssl.SSLError, ConnectionResetError, socket.timeout):
                pass
            return time.monotonic() - t0

    took = await loop.run_in_executor(None, slow_head)
    check(took <= 3.5, "a head that never ends after the handshake: dropped at head_timeout",
          f"{took:.2f}s")
    check(metric(server, "herald_tls_handshake_errors_total") >= errors + 2,
          "the two unfinished handshakes are counted",
          metric(server, "herald_tls_handshake_errors_total") - errors)
    await within(bystander.send("still here"), 5, "the bystander speaks")
    got = await within(peer.recv(), 5, "the other open client hears it")
    check(got == "still here", "an open wss client is served throughout", got)
    await bystander.close()
    await peer.close()


# --- reload and start-up ------------------------------------------------------------------------

def wait_stderr(server, pattern, what, timeout=5):
    step(what)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, server.stderr_text()):
            return
        time.sleep(0.05)
    raise Failure(what, f"a log line matching {pattern!r}", server.stderr_tail())


def reload_server_case(fn):
    """The SIGHUP case gets its own certificate files, which it overwrites."""
    d = tempfile.mkdtemp(prefix="herald-tls-reload-", dir=CERT_DIR)
    cert, key = make_cert("live", "herald-before", 0xA1, d)
    fn.files = (cert, key, d)
    return suite.case("SIGHUP: new connections get the new certificate, open ones keep going; a "
                      "bad reload keeps the old one", args=("--tls-cert", cert, "--tls-key", key,
                                                            "--memory"),
                      own_server=True, timeout=60)(fn)


@reload_server_case
async def sighup_reload(server):
    cert, key, d = sighup_reload.files
    new_cert, new_key = make_cert("next", "herald-after", 0xB2, d)
    old_copy = os.path.join(d, "old.pem")
    shutil.copy(cert, old_copy)
    both = client_context(old_copy, new_cert)
    first = peer_certificate(server, both)
    check(subject_cn(first) == "herald-before" and first["serialNumber"] == "A1",
          "before the reload: CN=herald-before, serial A1", first)
    a = await wss(server, "/chat", both, what="A joins /chat over wss (old certificate)")
    b = await wss(server, "/chat", both, what="B joins /chat over wss (old certificate)")
    await within(a.send("before"), 5, "A speaks")
    check(await within(b.recv(), 5, "B hears A") == "before", "B hears A", "")

    step("replace the certificate and key files (as a renewal does), then SIGHUP")
    shutil.copy(new_key, key + ".tmp")
    os.replace(key + ".tmp", key)
    shutil.copy(new_cert, cert + ".tmp")
    os.replace(cert + ".tmp", cert)
    server.send_signal(signal.SIGHUP)
    step("new connections until one presents the new certificate")
    deadline = time.monotonic() + 5
    seen = peer_certificate(server, both)
    while seen["serialNumber"] != "B2" and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = peer_certificate(server, both)
    check(subject_cn(seen) == "herald-after" and seen["serialNumber"] == "B2",
          "after SIGHUP: CN=herald-after, serial B2", seen)
    wait_stderr(server, r"TLS certificate reloaded .*CN=herald-after", "the reload is logged")
    check(server.alive(), "the server is still running after SIGHUP", "exited")
    c = await wss(server, "/chat", client_context(new_cert),
                  what="C joins with only the new certificate trusted")

    await within(a.send("after"), 5, "A speaks after the reload")
    for name, ws in (("B", b), ("C", c)):
        check(await within(ws.recv(), 5, f"{name} hears A") == "after",
              f"{name} hears A after the reload", "")
    await within(b.send("b after"), 5, "B speaks after the reload")
    for name, ws in (("A", a), ("C", c)):
        check(await within(ws.recv(), 5, f"{name} hears B") == "b after",
              f"{name} hears B: the connections made before the reload still work both ways", "")

    step("a reload that fails: garbage in the certificate file, then SIGHUP")
    with open(cert, "w") as f:
        f.write("not a certificate\n")
    server.send_signal(signal.SIGHUP)
    wait_stderr(server, r"TLS reload failed", "the failed reload is logged")
    lines = [ln for ln in server.stderr_text().splitlines() if "TLS reload failed" in ln]
    check(len(lines) == 1 and cert in lines[0], "one line naming the file", lines)
    seen = peer_certificate(server, both)
    check(seen["serialNumber"] == "B2", "still the last good certificate", seen)
    await within(a.send("still"), 5, "A speaks after the failed reload")
    check(await within(b.recv(), 5, "B hears A") == "still", "still served", "")
    for ws in (a, b, c):
        await within(ws.close(), 6, "close")
    step("SIGTERM")
    check(server.stop() == 0, "exit 0 after SIGTERM", server.stderr_tail())


def start_fails(herald, args, what, code=1):
    step(what)
    r = subprocess.run([herald, "serve", "--listen", "127.0.0.1:0", "--memory"] + args,
                       capture_output=True, text=True, timeout=15)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode == code, f"{what}: exit {code}", f"{r.returncode}; stderr {r.stderr!r}")
    check(len(lines) == 1, f"{what}: one line on stderr", r.stderr)
    check(r.stdout == "", f"{what}: nothing listens (no 'herald listening' line)", r.stdout)
    return lines[0]


@suite.case("a bad certificate or key stops the start: exit 1, one line, before listening",
            args=TLS_ARGS)
def bad_files(server):
    herald = server.argv[0]
    d = tempfile.mkdtemp(prefix="herald-tls-bad-", dir=CERT_DIR)
    _, other_key = make_cert("other", "other", 7, d)
    garbage = os.path.join(d, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    missing = os.path.join(d, "missing.pem")
    line = start_fails(herald, ["--tls-cert", missing, "--tls-key", KEY], "a missing certificate")
    check(f"tls_cert {missing}: No such file or directory" in line, "names the file and why", line)
    line = start_fails(herald, ["--tls-cert", CERT, "--tls-key", missing], "a missing key")
    check(f"tls_key {missing}: No such file or directory" in line, "names the file and why", line)
    line = start_fails(herald, ["--tls-cert", CERT, "--tls-key", other_key],
                       "a key that belongs to another certificate")
    check("does not match the certificate" in line, "says the key does not match", line)
    line = start_fails(herald, ["--tls-cert", garbage, "--tls-key", KEY], "a broken certificate")
    check(f"tls_cert {garbage}" in line, "names the file", line)
    line = start_fails(herald, ["--tls-cert", d, "--tls-key", KEY], "a directory as certificate")
    check("Is a directory" in line, "says why", line)
    line = start_fails(herald, ["--tls-cert", CERT], "a certificate without a key", code=2)
    check("tls_cert and tls_key go together" in line, "says both are needed", line)


if __name__ == "__main__":
    suite.main()
