"""python -m benchmarks [--tf-python PATH] [--markdown FILE] [--repeat N] [--min-time S] [-k TEXT]

Times every case in featherflow, NumPy (and a second NumPy baseline where a case has one), and
TensorFlow and PyTorch where importable. `--tf-python` runs the TensorFlow column in another
interpreter (one that has TensorFlow), via this same package in worker mode.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

from benchmarks import harness


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tf-python", help="a Python with TensorFlow, for the TensorFlow column")
    p.add_argument("--markdown", help="also write the results table to this Markdown file")
    p.add_argument("--repeat", type=int, default=7, help="timed runs per case (median reported)")
    p.add_argument("--min-time", type=float, default=0.1, help="seconds per timed run")
    p.add_argument("-k", dest="select", default="", help="only cases whose name contains TEXT")
    p.add_argument("--exact", default=None, help=argparse.SUPPRESS)  # one case, by full name
    p.add_argument("--in-process", action="store_true",
                   help="time every case in this process (default: each case in a fresh "
                        "interpreter, so memory left by earlier cases cannot affect later ones)")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # comma-separated frameworks; JSON out
    return p.parse_args(argv)


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _run_worker(python, frameworks, args, exact=None):
    cmd = [python, "-m", "benchmarks", "--worker", ",".join(frameworks), "--repeat",
           str(args.repeat), "--min-time", str(args.min_time), "-k", args.select]
    if exact is not None:
        cmd += ["--exact", exact]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        _log(f"worker {python} ({', '.join(frameworks)}) failed; its cells are left "
             f"empty:\n{out.stderr[-2000:]}")
        return {}, None
    payload = json.loads(out.stdout)
    return payload["results"], payload["versions"]


def _run_isolated(cases, frameworks, args):
    """Each case in a fresh interpreter (this one), its frameworks still taking turns there."""
    results, versions = {}, {}
    for case in cases:
        row, ver = _run_worker(sys.executable, frameworks, args, exact=case.name)
        for name, cells in row.items():
            results.setdefault(name, {}).update(cells)
            for f, sec in cells.items():
                shown = f"{sec * 1e3:10.3f} ms" if isinstance(sec, float) else sec
                _log(f"  {name:<28} {f:<12} {shown}")
        versions.update(ver or {})
    return results, versions


def _versions(frameworks):
    out = {}
    for f in frameworks:
        mod = harness.import_framework(f)
        if mod is not None:
            out[harness.IMPORT_NAME[f]] = getattr(mod, "__version__", "?")
    return out


def main(argv=None):
    args = _parse(argv)
    cases = [c for c in harness.discover() if args.select in c.name and
             (args.exact is None or c.name == args.exact)]
    if args.worker:
        frameworks = args.worker.split(",")
        results = harness.run(cases, frameworks, args.repeat, args.min_time)
        print(json.dumps({"results": results, "versions": _versions(frameworks)}))
        return 0
    # Benchmarks measure the CPU path against NumPy on the CPU: no simulated GPUs.
    os.environ.pop("FEATHERFLOW_SIMULATED_GPUS", None)
    local = ["featherflow", "numpy", "numpy_alt", "torch"]
    if not args.tf_python:
        local.append("tensorflow")
    _log("timing (median per call):")
    if args.in_process:
        results = harness.run(cases, local, args.repeat, args.min_time, log=_log)
        versions = _versions(local)
    else:
        results, versions = _run_isolated(cases, local, args)
    if args.tf_python:
        _log(f"timing TensorFlow in {args.tf_python} ...")
        if args.in_process:
            tf_results, tf_versions = _run_worker(args.tf_python, ["tensorflow"], args)
        else:
            tf_results, tf_versions = {}, {}
            for case in cases:
                row, ver = _run_worker(args.tf_python, ["tensorflow"], args, exact=case.name)
                tf_results.update(row)
                tf_versions.update(ver or {})
        for name, row in tf_results.items():
            results.setdefault(name, {}).update(row)
        versions.update(tf_versions or {})
    text = harness.table(cases, results)
    missing = [f for f in ("tensorflow", "torch") if not any(f in r for r in results.values())]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (f"Python {platform.python_version()} on {platform.machine()} "
              f"({os.cpu_count()} CPUs, load average {load:.1f} at the end), "
              + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
              + (f"; not importable: {', '.join(missing)}" if missing else ""))
    print(header)
    print()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(_markdown(header, text, args))
        _log(f"wrote {args.markdown}")
    return 0


def _markdown(header, text, args):
    return f"""# Benchmark results

Written by `python -m benchmarks --markdown benchmarks/RESULTS.md{' --tf-python ' + args.tf_python
if args.tf_python else ''}`. Times are the median of {args.repeat} runs, each long enough to last
{args.min_time} s, divided by the calls in it. "ff/NumPy" is featherflow's time over raw NumPy's
doing the same work (0-d float32 arrays for scalars); "NumPy alt." is a second, faster NumPy
baseline where one exists (NumPy scalars), reported for honesty. Each case runs in a fresh
interpreter{' (not in this run: --in-process)' if args.in_process else ''}, so the heap left by earlier cases does not
change later ones. featherflow runs on CPU:0 with
inputs placed there, TensorFlow with its GPUs hidden. The frameworks of one case take turns within
each repeat, so load on the machine hits them alike; absolute times on a busy machine (see the
load average below) still vary between runs by up to 2x.

{header}

{text}
"""


if __name__ == "__main__":
    sys.exit(main())
