"""The `checkpoint` state file (TensorFlow's CheckpointState, protobuf text format) and the
functions that find checkpoints through it: latest_checkpoint, get_checkpoint_state.

    model_checkpoint_path: "ckpt-5"
    all_model_checkpoint_paths: "ckpt-4"
    all_model_checkpoint_paths: "ckpt-5"
    all_model_checkpoint_timestamps: 1795560797.1450467
    last_preserved_timestamp: 1795560796.1282759

The file is replaced atomically (temporary file in the same directory, `os.replace`; fsynced
too when the save asked for it), so a reader sees the old state or the new one, never a torn
file.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from featherflow._src.train import bundle as _bundle

_log = logging.getLogger("featherflow")
_STATE_NAME = "checkpoint"
_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
            ord("'"): "\\'", ord("\\"): "\\\\"}
_UNESCAPES = {"n": 10, "r": 13, "t": 9, '"': 34, "'": 39, "\\": 92, "a": 7, "b": 8, "f": 12,
              "v": 11, "?": 63}


@dataclass
class CheckpointState:
    """tf.train.CheckpointState: the newest checkpoint and the ones kept."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list = field(default_factory=list)
    all_model_checkpoint_timestamps: list = field(default_factory=list)
    last_preserved_timestamp: float = 0.0

    def to_text(self) -> str:
        lines = []
        if self.model_checkpoint_path:
            lines.append(f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}")
        lines += [f"all_model_checkpoint_paths: {_quote(p)}"
                  for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {float(t)!r}"
                  for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {float(self.last_preserved_timestamp)!r}")
        return "".join(line + "\n" for line in lines)

    __str__ = to_text

    @classmethod
    def from_text(cls, text: str) -> "CheckpointState":
        """Parses the text format; ValueError on anything else."""
        state = cls()
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition(":")
            name, value = name.strip(), value.strip()
            if not sep:
                raise ValueError(f"line {number}: expected 'field: value'. Received: {raw!r}")
            if name == "model_checkpoint_path":
                state.model_checkpoint_path = _unquote(value, number)
            elif name == "all_model_checkpoint_paths":
                state.all_model_checkpoint_paths.append(_unquote(value, number))
            elif name == "all_model_checkpoint_timestamps":
                state.all_model_checkpoint_timestamps.append(_number(value, number))
            elif name == "last_preserved_timestamp":
                state.last_preserved_timestamp = _number(value, number)
            else:
                raise ValueError(f"line {number}: unknown field {name!r}")
        return state


def _quote(text: str) -> str:
    out = []
    for b in text.encode("utf-8"):
        if b in _ESCAPES:
            out.append(_ESCAPES[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")  # protobuf's text format escapes other bytes in octal
    return '"' + "".join(out) + '"'


def _unquote(value: str, number: int) -> str:
    if len(value) < 2 or value[0] != value[-1] or value[0] not in "\"'":
        raise ValueError(f"line {number}: expected a quoted string. Received: {value!r}")
    body, out, i = value[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in ("x", "X"):
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        elif nxt and nxt in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8) & 0xFF)
            i = j
        else:
            raise ValueError(f"line {number}: bad escape in {value!r}")
    return out.decode("utf-8", "surrogateescape")


def _number(value: str, number: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"line {number}: expected a number. Received: {value!r}") from None


def state_path(checkpoint_dir, latest_filename=None) -> str:
    return os.path.join(os.fspath(checkpoint_dir), latest_filename or _STATE_NAME)


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of `checkpoint_dir` (paths made absolute), or None without one.

    >>> import tempfile
    >>> get_checkpoint_state(tempfile.mkdtemp()) is None
    True
    """
    path = state_path(checkpoint_dir, latest_filename)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    try:
        state = CheckpointState.from_text(text)
    except ValueError as e:
        _log.warning("%s: Checkpoint ignored (%s)", path, e)
        return None
    directory = os.fspath(checkpoint_dir)

    def absolute(p):
        return p if not p or os.path.isabs(p) else os.path.join(directory, p)

    state.model_checkpoint_path = absolute(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [absolute(p) for p in state.all_model_checkpoint_paths]
    return state


def checkpoint_exists(prefix: str) -> bool:
    return os.path.isfile(_bundle.index_path(prefix))


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in `checkpoint_dir` (from its `checkpoint` file), or
    None when there is none or its files are gone.

    >>> import tempfile
    >>> latest_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    if checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    _log.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths=True,
                            durable=False):
    """Replaces `save_dir`'s state file atomically (and fsynced with `durable`, what a save
    with CheckpointOptions(experimental_fsync=True) asks for)."""
    save_dir = os.fspath(save_dir)
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)

    def shown(p):
        if save_relative_paths and os.path.isabs(p) and save_dir:
            return os.path.relpath(p, save_dir)
        if save_relative_paths and not os.path.isabs(p) and save_dir and \
                os.path.dirname(p) == save_dir:
            return os.path.basename(p)
        return p

    state = CheckpointState(shown(model_checkpoint_path), [shown(p) for p in paths],
                            list(all_model_checkpoint_timestamps or []),
                            last_preserved_timestamp or 0.0)
    text = state.to_text()
    _bundle.atomic_write(state_path(save_dir or ".", latest_filename),
                         lambda f: f.write(text), durable, mode="w")
