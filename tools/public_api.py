"""Writes the public surface of featherflow (every public name of every public namespace) to
tests/fixtures/public_api.txt; tests/test_public_api.py holds the package to that list.

Run after adding or removing a public name:  python tools/public_api.py
"""
from __future__ import annotations

import pathlib
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "public_api.txt"


def surface():
    sys.path.insert(0, str(ROOT))
    import featherflow  # noqa: PLC0415

    lines, seen, queue = [], set(), [("featherflow", featherflow)]
    while queue:
        path, mod = queue.pop(0)
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        names = dir(mod) if path != "featherflow.raw_ops" else []
        for name in sorted(n for n in names if not n.startswith("_")):
            obj = getattr(mod, name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("featherflow.") and "._src" not in obj.__name__:
                    lines.append(f"{path}.{name} (module)")
                    queue.append((f"{path}.{name}", obj))
                continue
            lines.append(f"{path}.{name}")
    return sorted(set(lines))


if __name__ == "__main__":
    OUT.write_text("\n".join(surface()) + "\n")
    print(f"wrote {OUT}")
