"""The benchmark runs end to end at a tiny size and writes every section of its report.

No timing is asserted: the figures of a 200-entry quick run mean nothing; this only keeps
``python -m bench`` from rotting between the runs that produce bench/RESULTS.md.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # bench/ is not installed

from bench.run import main  # noqa: E402

SECTIONS = (
    "# pactlog benchmark results",
    "**Machine:**",
    "## Summary",
    "## 1. Bulk ingestion of signed entries",
    "## 2. One durable append",
    "## 3. Proof generation",
    "### Inclusion proofs",
    "### Consistency proofs",
    "## 4. Opening an existing log and producing the first proof",
    "## 5. Offline verification of a bundle",
    "## 6. Database bytes per entry",
    "## 7. Peak memory (fresh process per job)",
    "## 8. Rules engine (issue #4)",
    "## Notes",
)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One work directory for the module, so the corpus is signed once."""
    return tmp_path_factory.mktemp("bench-work")


def test_benchmark_writes_every_section(tmp_path, work):
    out = tmp_path / "RESULTS.md"

    assert main(["--sizes", "200", "--quick", "--out", str(out), "--work", str(work)]) == 0

    text = out.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in text, heading
    assert "pymerkle measured" in text
    assert "equal at 200" in text  # pactlog and pymerkle computed the same root over the same entries
    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    assert results["sizes"]["200"]["import"]["n"] == 200
    assert not list(work.glob("*.db")), "databases are removed after the run"


def test_benchmark_without_pymerkle(tmp_path, work):
    out = tmp_path / "RESULTS.md"

    assert main(["--sizes", "200", "--quick", "--skip-pymerkle", "--out", str(out), "--work", str(work)]) == 0

    text = out.read_text(encoding="utf-8")
    assert "pymerkle skipped" in text
    assert "## 7. Peak memory (fresh process per job)" in text
