"""The benchmark runner works end to end (one tiny case, timings not checked)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*extra):
    out = subprocess.run([sys.executable, "-m", "benchmarks", "-k", "scalar a + b", "--repeat",
                          "1", "--min-time", "0.001", *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| scalar a + b")]
    assert len(rows) == 1, out.stdout + out.stderr
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    # featherflow and NumPy timed, and their ratio reported against the target.
    assert re.fullmatch(r"[\d.]+ (ns|us|ms|s)", cells[1]), cells
    assert re.fullmatch(r"[\d.]+ (ns|us|ms|s)", cells[2]), cells
    assert re.fullmatch(r"[\d.]+x", cells[3]), cells
    assert cells[4].startswith("<= 3x"), cells


def test_isolated_run_reports_the_case():
    _run()


def test_in_process_run_reports_the_case():
    _run("--in-process")
