#!/usr/bin/python3
"""The PHP client (clients/php) against the real server, run by Debian's php-cli: what the
people coming from the Ratchet tutorials will use.

Usage: /usr/bin/python3 test_php.py --herald build/<dir>/apps/herald/herald
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from herald_checks import check, step  # noqa: E402
from herald_harness import Suite  # noqa: E402

suite = Suite("PHP client (php-cli)")
TEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "php",
                    "tests", "ClientTest.php")


@suite.case("clients/php/tests/ClientTest.php passes against the server", timeout=60)
def php_client(server):
    step("php ClientTest.php")
    p = subprocess.run(["php", TEST, f"http://127.0.0.1:{server.port}"], capture_output=True,
                       text=True, timeout=50)
    print(p.stdout, end="")
    check(p.returncode == 0, "the PHP test exits 0", p.stdout[-2000:] + p.stderr[-2000:])


if __name__ == "__main__":
    suite.main()
