#!/usr/bin/python3
"""The raw TCP transport (--tcp-listen): what only TCP has. The protocol itself runs over TCP in
test_protocol.py --transport tcp. Here: the tutorials' PHP socket_create client subscribes and
receives a publication; a line over the size limit and a line that is not UTF-8 end that
connection with disconnect 4500 while others keep working; the empty-line keepalive (answered by
any line, a silent client dropped); a client that stops reading is dropped at the output cap and
the server's heap comes back; SIGTERM sends disconnect 1001; the port is refused when in use.

Usage: /usr/bin/python3 test_tcp.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import herald_links  # noqa: E402
from herald_checks import check, step  # noqa: E402
from herald_harness import Herald, Suite  # noqa: E402

suite = Suite("raw TCP transport")
TCP = ("--tcp-listen", "127.0.0.1:0", "--memory")
PHP_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "php",
                          "socket_subscriber.php")


def api(server, method, body):
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/{method}",
                                 data=json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def metric(server, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


async def lines_until(link, pred, what, timeout=5):
    """Reads lines until pred(message) holds; returns that message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        check(left > 0, what, "nothing in time")
        for line in (await asyncio.wait_for(link.recv(), left)).split("\n"):
            msg = json.loads(line)
            if pred(msg):
                return msg


async def connected(server, what):
    link = await herald_links.connect(server, what, transport="tcp")
    await link.send('{"id":1,"method":"connect"}')
    await lines_until(link, lambda m: m.get("id") == 1 and "result" in m, f"{what} connects")
    return link


async def expect_eof(link, what, timeout=5):
    try:
        while True:
            await asyncio.wait_for(link.recv(), timeout)
    except herald_links.LinkClosed:
        return
    except (ConnectionError, OSError):
        return


@suite.case("the PHP socket_create client subscribes over TCP and receives a publication",
            args=TCP, timeout=40)
async def php_socket_client(server):
    step("php socket_subscriber.php")
    proc = await asyncio.create_subprocess_exec(
        "php", PHP_CLIENT, "127.0.0.1", str(server.tcp_port), "php:tcp",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    ready = await asyncio.wait_for(proc.stdout.readline(), 20)
    check(ready == b"ready\n", "the PHP client says it is subscribed", ready)
    step("publish through the server API")
    api(server, "publish", {"channel": "php:tcp", "data": {"text": "hello PHP"}})
    out = await asyncio.wait_for(proc.stdout.readline(), 20)
    rc = await asyncio.wait_for(proc.wait(), 20)
    err = await proc.stderr.read()
    check(rc == 0 and json.loads(out) == {"text": "hello PHP"},
          "PHP prints the publication's data and exits 0", (rc, out, err))


@suite.case("a line over the size limit and a line that is not UTF-8 get disconnect 4500; "
            "others keep working", args=TCP + ("--max-message-size", "1000"))
async def bad_lines(server):
    bystander = await connected(server, "bystander")
    for what, payload in [("a 1,001-byte line", b"x" * 1001 + b"\n"),
                          ("a line that is not UTF-8", b'{"id":2,"method":"ping"}\xff\n'),
                          ("an overlong line with no newline yet", b"y" * 5000)]:
        link = await connected(server, what)
        step(f"send {what}")
        link.writer.write(payload)
        await link.writer.drain()
        msg = await lines_until(link, lambda m: m.get("push") == "disconnect",
                                f"a disconnect push after {what}")
        check(msg.get("code") == 4500 and msg.get("reconnect") is False,
              "disconnect 4500, not to be retried", msg)
        await expect_eof(link, f"the server closes after {what}")
        await bystander.send('{"id":9,"method":"ping"}')
        await lines_until(bystander, lambda m: m.get("id") == 9 and m.get("result") == {},
                          "the bystander still gets its pong")
    check(metric(server, "herald_tcp_line_errors_total") == 3, "3 line errors counted",
          metric(server, "herald_tcp_line_errors_total"))


@suite.case("keepalive: an empty line after ping_interval; any line answers it; silence drops",
            args=TCP + ("--ping-interval", "1", "--pong-timeout", "1"), timeout=20)
async def keepalive(server):
    lively = await connected(server, "a client that answers")
    silent = await connected(server, "a silent client")
    step("the lively client gets an empty line and answers with one")
    t0 = time.monotonic()
    raw = await asyncio.wait_for(lively.reader.readline(), 5)
    check(raw == b"\n", "an empty keepalive line", raw)
    check(time.monotonic() - t0 >= 0.5, "not before the ping interval", time.monotonic() - t0)
    lively.writer.write(b"\n")
    await lively.writer.drain()
    step("the silent client is dropped within ping + pong + a tick")
    await expect_eof(silent, "silent client dropped", timeout=6)
    check(time.monotonic() - t0 < 6, "dropped in time", time.monotonic() - t0)
    await lively.send('{"id":3,"method":"ping"}')
    await lines_until(lively, lambda m: m.get("id") == 3, "the lively client still answered")
    check(metric(server, "herald_tcp_ping_timeouts_total") >= 1, "a ping timeout counted",
          metric(server, "herald_tcp_ping_timeouts_total"))


@suite.case("a client that stops reading is dropped at the output cap; the heap comes back",
            own_server=True, timeout=60)
async def slow_reader(server):
    server.stop()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    # No history: what the heap holds after the drop is then only what the connections hold.
    cfg.write("max_output_bytes: 1048576\nmax_message_size: 65536\n"
              "default_namespace:\n  history_size: 0\n")
    cfg.close()
    srv = Herald(server.argv[0], ["--config", cfg.name, *TCP]).start()
    try:
        base_heap = metric(srv, "herald_heap_bytes")
        step("a subscriber that never reads (small receive buffer)")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.tcp_port))
        sock.sendall(b'{"id":1,"method":"connect"}\n'
                     b'{"id":2,"method":"subscribe","params":{"channel":"flood"}}\n')
        reader = await connected(srv, "a subscriber that reads")
        await reader.send('{"id":2,"method":"subscribe","params":{"channel":"flood"}}')
        await lines_until(reader, lambda m: m.get("id") == 2, "subscribed")
        step("publish 400 x 16 KiB (6.4 MiB, over the 1 MiB cap)")
        blob = "z" * 16384
        for i in range(400):
            api(srv, "publish", {"channel": "flood", "data": {"i": i, "blob": blob}})
            if metric(srv, "herald_ws_slow_disconnects_total") and i % 50 == 0:
                break
        for _ in range(200):
            if metric(srv, "herald_ws_slow_disconnects_total") == 1:
                break
            await asyncio.sleep(0.05)
        check(metric(srv, "herald_ws_slow_disconnects_total") == 1,
              "the non-reading client dropped for its output", "not dropped")
        got = await lines_until(reader, lambda m: m.get("push") == "message" and
                                m["data"]["i"] >= 1, "the reading subscriber keeps receiving")
        check(got["data"]["blob"] == blob, "whole publications", len(got["data"]["blob"]))
        heap = metric(srv, "herald_heap_bytes")
        check(heap < base_heap + 4 * 1048576, "heap back near its level (within 4 MiB)",
              (base_heap, heap))
        sock.close()
        await reader.close()
    finally:
        srv.stop()
        os.unlink(cfg.name)


@suite.case("SIGTERM: a TCP client gets disconnect 1001, then EOF; exit 0", own_server=True,
            args=TCP)
async def drain(server):
    link = await connected(server, "client")
    step("SIGTERM")
    server.send_signal(15)
    msg = await lines_until(link, lambda m: m.get("push") == "disconnect", "a disconnect push")
    check(msg.get("code") == 1001 and msg.get("reconnect") is True,
          "disconnect 1001, reconnect", msg)
    await expect_eof(link, "EOF after the push")
    check(server.wait_exit(10) == 0, "exit status 0", server.proc.returncode)


@suite.case("a second server on the TCP port of a running one fails with one line, exit 1",
            args=TCP)
async def port_in_use(server):
    step(f"start a second server with --tcp-listen 127.0.0.1:{server.tcp_port}")
    p = subprocess.run([server.argv[0], "serve", "--listen", "127.0.0.1:0", "--memory",
                        "--tcp-listen", f"127.0.0.1:{server.tcp_port}"],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 1 and f"127.0.0.1:{server.tcp_port} is already in use" in p.stderr,
          "exit 1 and 'HOST:PORT is already in use'", (p.returncode, p.stderr))
    link = await connected(server, "the first server still serves TCP")
    await link.close()


if __name__ == "__main__":
    suite.main()
