#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that every README code block marked <!-- file: PATH --> is exactly the file PATH, so the
README's "Link it into your trainer" examples are the consumer tests' sources and cannot rot.

Usage: check_readme.py README.md REPO_ROOT. Exit 0 when all match (and there is at least one),
1 naming the first block that differs, or the marker without a block."""

import difflib
import pathlib
import re
import sys

MARKER = re.compile(r"^<!-- file: (\S+) -->\s*$")


def main(readme_path, root):
    lines = pathlib.Path(readme_path).read_text(encoding="utf-8").splitlines()
    checked = 0
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            print(f"{readme_path}:{i + 1}: marker for {m.group(1)} is not followed by a code block")
            return 1
        end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            print(f"{readme_path}:{i + 2}: code block for {m.group(1)} is not closed")
            return 1
        block = lines[i + 2:end]
        source = pathlib.Path(root, m.group(1))
        if not source.is_file():
            print(f"{readme_path}:{i + 1}: {m.group(1)} does not exist")
            return 1
        want = source.read_text(encoding="utf-8").splitlines()
        if block != want:
            diff = "\n".join(difflib.unified_diff(want, block, m.group(1), "README block", lineterm=""))
            print(f"{readme_path}:{i + 3}: the block differs from {m.group(1)}:\n{diff}")
            return 1
        checked += 1
    if checked == 0:
        print(f"{readme_path}: no <!-- file: PATH --> blocks found")
        return 1
    print(f"{readme_path}: {checked} example blocks match their files")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
