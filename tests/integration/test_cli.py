#!/usr/bin/python3
"""`herald pub`, `herald history` and `herald presence` against a real server: one JSON object
per line on stdout, exit status 0 on success and 1 (with the server's error on stderr) otherwise.

Usage: /usr/bin/python3 test_cli.py --herald build/<dir>/apps/herald/herald [-k SUBSTRING]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402

suite = Suite("CLI (herald pub / history / presence)")


def herald(server, *args):
    step("herald " + " ".join(args))
    p = subprocess.run([server.argv[0], *args, f"--server=http://127.0.0.1:{server.port}"],
                       capture_output=True, text=True, timeout=20)
    return p.returncode, [json.loads(line) for line in p.stdout.splitlines() if line], p.stderr


@suite.case("pub prints the offset; history prints one JSON line per publication")
def pub_and_history(server):
    rc, out, err = herald(server, "pub", "cli:news", '{"text":"hi"}')
    check(rc == 0 and out[0]["offset"] == 1 and out[0]["channel"] == "cli:news",
          "exit 0 and offset 1", (rc, out, err))
    epoch = out[0]["epoch"]
    rc, out, _ = herald(server, "pub", "cli:news", '"again"', "--idempotency-key", "k1")
    rc2, out2, _ = herald(server, "pub", "cli:news", '"again"', "--idempotency-key", "k1")
    check(out == out2 and out[0]["offset"] == 2, "the key publishes once", (out, out2))
    rc, lines, _ = herald(server, "history", "cli:news")
    check(rc == 0 and lines == [
        {"channel": "cli:news", "offset": 1, "epoch": epoch, "data": {"text": "hi"}},
        {"channel": "cli:news", "offset": 2, "epoch": epoch, "data": "again"}],
        "both publications, one per line", lines)
    rc, lines, _ = herald(server, "history", "cli:news", "--since", "1", "--epoch", epoch)
    check([x["offset"] for x in lines] == [2], "--since 1 gives offset 2 only", lines)


@suite.case("history --reverse prints newest first: the newest N, or the ones before --since")
def history_reverse(server):
    for i in range(1, 6):
        rc, out, err = herald(server, "pub", "cli:rev", str(i))
        check(rc == 0 and out[0]["offset"] == i, f"offset {i}", (rc, out, err))
    epoch = out[0]["epoch"]
    cases = [
        (["--reverse"], [5, 4, 3, 2, 1]),
        (["--reverse", "--limit", "2"], [5, 4]),
        (["--limit", "2"], [1, 2]),
        (["--reverse", "--since", "4", "--epoch", epoch], [3, 2, 1]),
        (["--reverse", "--since", "4", "--epoch", epoch, "--limit", "2"], [3, 2]),
    ]
    for args, want in cases:
        rc, lines, err = herald(server, "history", "cli:rev", *args)
        check(rc == 0 and [(x["offset"], x["data"]) for x in lines] == [(o, o) for o in want],
              f"{' '.join(args)}: offsets {want}", (rc, lines, err))


@suite.case("errors exit 1 with the server's message on stderr")
def errors(server):
    rc, out, err = herald(server, "pub", "cli:bad", "{not json")
    check(rc == 1 and not out and "100" in err, "exit 1 and error 100 on stderr", (rc, err))
    rc, out, err = herald(server, "presence", "cli:nobody")
    check(rc == 0 and out == [], "an empty channel prints nothing", (rc, out, err))


if __name__ == "__main__":
    suite.main()
