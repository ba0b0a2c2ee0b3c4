"""`python -m featherflow.train inspect PATH`: what a checkpoint holds, without restoring it."""
from __future__ import annotations

import argparse
import os
import sys

from featherflow._src.framework import errors
from featherflow._src.train.bundle_reader import BundleReader


def resolve_prefix(path: str) -> str:
    """Accepts a prefix, its .index or a data file, or a directory with a `checkpoint` file or
    exactly one .index file; returns the prefix."""
    path = os.fspath(path)
    if path.endswith(".index"):
        return path[:-len(".index")]
    if ".data-" in os.path.basename(path):
        return path[:path.rindex(".data-")]
    if os.path.isdir(path):
        state = os.path.join(path, "checkpoint")
        if os.path.isfile(state):
            # The CheckpointState text file: model_checkpoint_path: "ckpt-3"
            with open(state, encoding="utf-8") as f:
                for line in f:
                    if line.startswith("model_checkpoint_path:"):
                        name = line.split(":", 1)[1].strip().strip('"')
                        return name if os.path.isabs(name) else os.path.join(path, name)
        indexes = sorted(p for p in os.listdir(path) if p.endswith(".index"))
        if len(indexes) == 1:
            return os.path.join(path, indexes[0][:-len(".index")])
        raise errors.NotFoundError(None, None, f"No unique checkpoint in directory {path}: "
                                               f"found {len(indexes)} .index files")
    return path


def describe(prefix: str) -> list[tuple[str, str, tuple, int]]:
    """(key, dtype name, shape, stored bytes) for every tensor of checkpoint `prefix`."""
    with BundleReader(prefix) as reader:
        rows = []
        for key in reader.keys():
            entry = reader.entry(key)
            try:
                name = reader.dtype_and_shape(key)[0].name
            except errors.OpError:
                name = f"<dtype {entry.dtype}>"
            rows.append((key, name, entry.shape, entry.size))
        return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m featherflow.train")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="list the keys, dtypes and shapes of a checkpoint")
    p.add_argument("path", help="checkpoint prefix, its .index file, or a directory")
    args = parser.parse_args(argv)
    try:
        prefix = resolve_prefix(args.path)
        rows = describe(prefix)
    except errors.OpError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    width = max([len(r[0]) for r in rows] + [3])
    print(f"checkpoint {prefix}: {len(rows)} tensors, {sum(r[3] for r in rows)} bytes")
    for key, dtype, shape, size in rows:
        print(f"{key:<{width}}  {dtype:<10}  {list(shape)}")
    return 0
