"""Timing and reporting for the benchmark cases.

A case names factories, one per framework; a factory builds the inputs and returns a zero-argument
callable that runs the measured operation once. Factories import their framework lazily, so this
package can time TensorFlow in another interpreter (`--tf-python`) without importing featherflow
there.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import statistics
import timeit
from typing import Callable, Optional

# Framework keys, in column order. "numpy_alt" is a second NumPy baseline for cases that have an
# honest alternative (NumPy scalars instead of 0-d arrays).
FRAMEWORKS = ("featherflow", "numpy", "numpy_alt", "tensorflow", "torch")
IMPORT_NAME = {"featherflow": "featherflow", "numpy": "numpy", "numpy_alt": "numpy",
               "tensorflow": "tensorflow", "torch": "torch"}


@dataclasses.dataclass
class Case:
    """One benchmark: `factories[framework](module) -> callable`, run with no arguments."""

    group: str
    name: str
    featherflow: Callable
    numpy: Callable
    numpy_alt: Optional[Callable] = None
    numpy_alt_label: str = ""
    tensorflow: Optional[Callable] = None
    torch: Optional[Callable] = None
    target: Optional[float] = None  # featherflow / numpy ratio to hold, if any

    def factory(self, framework):
        return getattr(self, framework)


def discover():
    """All cases of every `cases_*` module in this package, in module then list order."""
    import benchmarks  # noqa: PLC0415

    cases = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("cases_"):
            cases.extend(importlib.import_module(f"benchmarks.{info.name}").CASES)
    return cases


def calibrate(fn, min_time=0.1):
    """A Timer for `fn` and the number of calls that lasts at least `min_time` seconds."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < min_time:  # like Timer.autorange, to a chosen duration
        number *= 2 if number < 8 else 4
    return timer, number


def time_call(fn, repeat=7, min_time=0.1):
    """Median seconds per call of `fn` over `repeat` runs of enough calls to last `min_time`."""
    timer, number = calibrate(fn, min_time)
    return statistics.median(timer.repeat(repeat=repeat, number=number)) / number


def import_framework(framework):
    try:
        return importlib.import_module(IMPORT_NAME[framework])
    except Exception:  # noqa: BLE001 - an unusable framework is skipped, whatever the reason
        return None


def run(cases, frameworks, repeat=7, min_time=0.1, log=None):
    """{case name: {framework: seconds per call}} for the frameworks that can run each case; a
    case that raises gets the error text instead of a time."""
    modules = {f: import_framework(f) for f in frameworks}
    if modules.get("tensorflow") is not None:
        modules["tensorflow"].config.set_visible_devices([], "GPU")  # CPU against CPU
    results = {}
    for case in cases:
        row = results.setdefault(case.name, {})
        timers = {}
        for f in frameworks:
            factory, mod = case.factory(f), modules[f]
            if factory is None or mod is None:
                continue
            try:
                fn = factory(mod)
                fn()  # warm-up, and fail early
            except Exception as e:  # noqa: BLE001 - reported in the table, the rest still runs
                row[f] = f"error: {type(e).__name__}: {e}"
                if log:
                    log(f"  {case.name:<28} {f:<12} {row[f]}")
                continue
            timers[f] = calibrate(fn, min_time)
        # NOTE: the frameworks of one case take turns within each repeat, so a burst of load on
        # the machine hits all of them alike and the ratios stay meaningful.
        runs = {f: [] for f in timers}
        for _ in range(repeat):
            for f, (timer, number) in timers.items():
                runs[f].append(timer.timeit(number) / number)
        for f in timers:
            row[f] = statistics.median(runs[f])
            if log:
                log(f"  {case.name:<28} {f:<12} {_fmt_time(row[f])}")
    return results


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
def _fmt_time(s):
    if s is None:
        return "-"
    if isinstance(s, str):
        return s.split(":")[0] + " (see log)"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    return f"{s * 1e3:.2f} ms"


def _num(x):
    return x if isinstance(x, float) else None


def _ratio(a, b):
    a, b = _num(a), _num(b)
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def table(cases, results):
    """A Markdown table: times, featherflow's ratio to each baseline, and the target."""
    head = ["case", "featherflow", "NumPy", "ff/NumPy", "target", "NumPy alt.", "ff/alt.",
            "TensorFlow", "ff/TF", "PyTorch", "ff/torch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in cases:
        r = results.get(case.name, {})
        ff, np_, alt = r.get("featherflow"), r.get("numpy"), r.get("numpy_alt")
        tf_, torch_ = r.get("tensorflow"), r.get("torch")
        target = "-"
        if case.target is not None:
            met = ""
            if _num(ff) is not None and _num(np_) is not None:
                met = " ok" if ff / np_ <= case.target else " MISSED"
            target = f"<= {case.target:g}x{met}"
        alt_label = f"{_fmt_time(alt)} ({case.numpy_alt_label})" if alt is not None else "-"
        cells = [case.name, _fmt_time(ff), _fmt_time(np_), _ratio(ff, np_), target, alt_label,
                 _ratio(ff, alt), _fmt_time(tf_), _ratio(ff, tf_), _fmt_time(torch_),
                 _ratio(ff, torch_)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
