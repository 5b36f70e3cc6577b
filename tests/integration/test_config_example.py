#!/usr/bin/python3
"""docs/herald.example.yaml, the configuration the Debian package installs as
/etc/herald/herald.yaml, against the parser in src/server/config.cpp and the real binary:

- every key config.cpp accepts (top level and namespace options) is in the example, at the top
  level or under default_namespace, uncommented, so that its value is visible;
- every key is explained: a comment directly above it or beside it, or it follows a key whose
  comment names it too (ping_interval and pong_timeout share one);
- the example holds the embedded defaults: `herald check-config` prints the same with it as
  without it;
- the packaged copy (cmake/Packaging.cmake writes it) passes check-config and differs from the
  defaults in data_dir only (/var/lib/herald).

Usage: /usr/bin/python3 test_config_example.py --herald BINARY --packaged build/<dir>/packaging/herald.yaml
"""

import argparse
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE = os.path.join(ROOT, "docs", "herald.example.yaml")
CONFIG_CPP = os.path.join(ROOT, "src", "server", "config.cpp")
# Older spellings config.cpp still reads; the example must mention them, not set them (it sets
# the current key, and both at once are refused).
LEGACY = {"client_publish"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"  FAIL {what}", flush=True)


def accepted_keys():
    """(top-level keys, namespace keys) from config.cpp's setter tables."""
    with open(CONFIG_CPP) as f:
        text = f.read()
    found = re.findall(r'\{"(\w+)",\s*\[\]\(const YAML::Node& n, (ServeConfig|NamespaceOptions)&',
                       text)
    top = {k for k, kind in found if kind == "ServeConfig"} | {"default_namespace", "namespaces"}
    ns = {k for k, kind in found if kind == "NamespaceOptions"}
    return top, ns


def explained(lines, index, key, indent):
    """Whether the key on lines[index] has a comment above or beside it, or belongs to a run of
    keys whose comment block names it."""
    line = lines[index]
    if "#" in line.split(":", 1)[1]:
        return True  # a trailing comment
    i = index - 1
    while i >= 0 and re.match(rf"^{indent}\w+:", lines[i]) and "#" not in lines[i]:
        i -= 1  # a run of keys without comments of their own
    block = []
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.append(lines[i])
        i -= 1
    if not block:
        return False
    if i == index - 1 - len(block):
        return True  # the block is directly above this key
    comment = " ".join(block).replace("-", "_")
    return key in comment


def main():
    ap = argparse.ArgumentParser(description="Herald: the example configuration")
    ap.add_argument("--herald", required=True)
    ap.add_argument("--packaged", required=True)
    opts = ap.parse_args()
    print("== config example: every option there, explained, the defaults", flush=True)
    top, ns = accepted_keys()
    check(len(top) > 30 and len(ns) > 8, f"setter tables found in config.cpp ({len(top)}, "
          f"{len(ns)} keys)")
    with open(EXAMPLE) as f:
        text = f.read()
    example = yaml.safe_load(text)
    lines = text.splitlines()

    for key in sorted(top - {"namespaces"}):
        check(key in example, f"top-level key {key} set in docs/herald.example.yaml")
    check("namespaces:" in text, "namespaces shown (commented out) in the example")
    default_ns = example.get("default_namespace") or {}
    for key in sorted(ns - LEGACY):
        check(key in default_ns, f"namespace option {key} set under default_namespace")
    for key in sorted(LEGACY):
        check(f"`{key}" in text, f"the older key {key} mentioned in a comment")
    for key in sorted(set(example) - top):
        check(False, f"the example's key {key} is one config.cpp accepts")

    for i, line in enumerate(lines):
        m = re.match(r"^(\w+):", line)
        if m:
            check(explained(lines, i, m.group(1), ""), f"{m.group(1)} explained by a comment")
        m = re.match(r"^  (\w+):", line)
        if m and m.group(1) in ns:
            check(explained(lines, i, m.group(1), "  "),
                  f"default_namespace.{m.group(1)} explained by a comment")

    defaults = subprocess.run([opts.herald, "check-config"], capture_output=True, text=True,
                              timeout=30)
    with_example = subprocess.run([opts.herald, "check-config", "--config", EXAMPLE],
                                  capture_output=True, text=True, timeout=30)
    check(defaults.returncode == 0 and with_example.returncode == 0,
          f"check-config passes ({defaults.stderr.strip()} {with_example.stderr.strip()})")
    if defaults.stdout != with_example.stdout:
        diff = [f"{a!r} vs {b!r}" for a, b in zip(defaults.stdout.splitlines(),
                                                   with_example.stdout.splitlines()) if a != b]
        check(False, f"the example holds the embedded defaults; differs: {diff}")

    packaged = subprocess.run([opts.herald, "check-config", "--config", opts.packaged],
                              capture_output=True, text=True, timeout=30)
    check(packaged.returncode == 0, f"check-config of the packaged config: {packaged.stderr}")
    differs = sorted(set(packaged.stdout.splitlines()) ^ set(defaults.stdout.splitlines()))
    check(differs == ['data_dir: "/var/lib/herald"', 'data_dir: "herald-data"'],
          f"the packaged config differs from the defaults in data_dir only: {differs}")

    if failures:
        print(f"== config example: {len(failures)} FAILED", flush=True)
        sys.exit(1)
    print(f"== config example: all passed ({len(top)} top-level keys, {len(ns)} namespace "
          "options)", flush=True)


if __name__ == "__main__":
    main()
