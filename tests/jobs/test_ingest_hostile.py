"""Hostile reports that the parser must read in bounded memory (issue 13, item 2, found while
streaming ingestion): an element carrying an attribute flood is refused before the parser
holds its attributes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jobs.junit import parse

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking process through exec.
PEAK_RSS = """
import sys
from jobs.junit import JUnitError, parse
try:
    with open(sys.argv[1], "rb") as f:
        parse(f)
    refused = ""
except JUnitError as exc:
    refused = str(exc)
with open("/proc/self/status") as f:
    print(next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:")))
print(refused)
"""

FLOOD_MB = 45  # under the API's 50 MB


@pytest.mark.parametrize("where", ["a testcase", "an element in properties"])
def test_an_attribute_flood_is_refused_in_bounded_memory(tmp_path: Path, where: str) -> None:
    """45 MB of attributes on one element took ~16x its size: libxml2 and lxml hold every
    attribute of a start tag at once. No report has hundreds of attributes on an element,
    so the bytes are refused before the parser sees them."""
    path = tmp_path / "flood.xml"
    with path.open("w") as f:
        f.write("<testsuites><testsuite name='s'>")
        f.write("<testcase classname='t' name='a'" if where == "a testcase" else "<properties><p")
        size, i = 0, 0
        while size < FLOOD_MB * 2**20:  # (in blocks: a write per attribute took seconds)
            size += f.write("".join(map(' a{}=""'.format, range(i, i + 100_000))))
            i += 100_000
        f.write(
            "/>" if where == "a testcase" else "/></properties><testcase classname='t' name='a'/>"
        )
        f.write("</testsuite></testsuites>")
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    peak, refused = out.stdout.split("\n", 1)
    assert int(peak) < 200, f"peak RSS {peak} MB"
    assert refused.startswith("an element has more than 256 attributes (near byte ")
    assert refused.strip().endswith("); no JUnit report has so many")


def test_many_attributes_and_a_long_message_are_still_a_report() -> None:
    """What the refusal must leave alone: an element with a few hundred bytes of
    attributes each, and a failure message of several megabytes."""
    many = "".join(f' property_{i}="{i * 7}"' for i in range(200))
    message = "E   assert the swarm reached quorum = false\n" * 100_000  # ~4.6 MB
    doc = (
        f"<testsuite><testcase classname='t' name='a'{many}/>"
        f"<testcase classname='t' name='b'><failure message='{message}'/></testcase>"
        "</testsuite>"
    ).encode()
    report = parse(doc)
    assert [str(c.status) for c in report.cases.values()] == ["passed", "failed"]
    # (An attribute's newlines are read as spaces: one line, cut to the excerpt's length.)
    assert report.cases[("t", "b")].message == message.replace("\n", " ")[:600]
