"""`model.summary()`: Keras 3's table, drawn as Keras draws it (with `rich`), in plain text.

Column widths follow Keras: positions [0.45, 0.80, 1.0] of the line length (88, or 108 with the
"Connected to" column of a non-sequential functional model, capped by the terminal width minus
4), each column padded by one space on both sides, and the excess over the line length taken off
evenly column by column (rich's rule for fixed-width columns). Cells wrap at spaces.
"""
from __future__ import annotations

import math
import shutil

import numpy as np


def _count(weights):
    return int(sum(math.prod(tuple(v.shape)) for v in weights))


def _bytes(weights):
    total, seen = 0, set()
    for v in weights:
        if id(v) in seen:
            continue
        seen.add(id(v))
        total += math.prod(tuple(v.shape)) * np.dtype(v.dtype.as_numpy_dtype).itemsize
    return total


def readable_memory_size(size):
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _output_shape(layer):
    nodes = layer._inbound_nodes
    if not nodes:
        return "?"
    outs = [t for t in nodes[-1].output_tensors]
    shapes = [_format_shape(t.shape) for t in outs]
    if len(shapes) == 1:
        return shapes[0]
    return "[" + ", ".join(shapes) + "]"


def _is_sequential_like(model, functional):
    if not functional:
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and
                                    len(depth_nodes[0].input_tensors) > 1):
            return False
        nodes += depth_nodes
    ids = {id(n) for n in nodes}
    for layer in model.layers:
        if sum(1 for n in layer._inbound_nodes if id(n) in ids) > 1:
            return False
    return True


def _wrap(text, width):
    """Greedy word wrap at spaces; words longer than the width are cut (rich folds them)."""
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _ratio_reduce(total, widths):
    ratios = [1] * len(widths)
    remaining, ratio_left, out = total, sum(ratios), []
    for r, w in zip(ratios, widths):
        cut = min(w, round(r * remaining / ratio_left))
        out.append(w - cut)
        remaining -= cut
        ratio_left -= r
    return out


def _render_table(header, align, rows, col_widths, line_length):
    widths = [w + 2 for w in col_widths]
    available = line_length - (len(widths) + 1)
    if sum(widths) > available:
        widths = _ratio_reduce(sum(widths) - available, widths)
    inner = [w - 2 for w in widths]

    def row_lines(cells):
        wrapped = [_wrap(c, w) for c, w in zip(cells, inner)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for cell, w, a in zip(wrapped, inner, align):
                text = cell[i] if i < len(cell) else ""
                text = text.rjust(w) if a == "right" else (
                    text.center(w) if a == "center" else text.ljust(w))
                parts.append(" " + text + " ")
            out.append(parts)
        return out
    lines = ["┏" + "┳".join("━" * w for w in widths) + "┓"]
    lines += ["┃" + "┃".join(p) + "┃" for p in row_lines(header)]
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, row in enumerate(rows):
        if i:
            lines.append("├" + "┼".join("─" * w for w in widths) + "┤")
        lines += ["│" + "│".join(p) + "│" for p in row_lines(row)]
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return lines


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False, layer_range=None):
    from featherflow._src.keras.models.functional import Functional  # noqa: PLC0415
    from featherflow._src.keras.models.sequential import Sequential  # noqa: PLC0415
    functional = isinstance(model, Functional) or (
        not isinstance(model, Sequential) and getattr(model, "_exec_nodes", None) is not None)
    layers = model.layers
    sequential_like = _is_sequential_like(model, functional)
    if sequential_like:
        default, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
        relevant = {id(n) for nodes in model._nodes_by_depth.values() for n in nodes}
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    default = min(default, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    col_widths, current = [], 0
    for pos in positions:
        width = pos - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        col_widths.append(width)
        current += width

    def connections(layer):
        parts = []
        for node in layer._inbound_nodes:
            if id(node) not in relevant:
                continue
            for t in node.input_tensors:
                op, node_index, tensor_index = t._keras_history
                parts.append(f"{op.name}[{node_index}][{tensor_index}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix=""):
        params = (f"{layer.count_params():,}" if layer.built else "0 (unbuilt)")
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _output_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_for(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        sub = getattr(layer, "layers", None)
        if expand_nested and sub:
            for s in sub:
                rows.extend(rows_for(s, level + 1))
        return rows
    start, end = _layer_range(layers, layer_range)
    rows = [r for layer in layers[start:end] for r in rows_for(layer)]
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    opt = getattr(model, "optimizer", None)
    opt_vars = list(opt.variables) if getattr(model, "compiled", False) and opt is not None \
        and getattr(opt, "built", False) else None
    counts = [_count(trainable), _count(non_trainable), _count(opt_vars or [])]
    sizes = [_bytes(trainable), _bytes(non_trainable), _bytes(opt_vars or [])]
    lines = [f'Model: "{model.name}"']
    lines += _render_table(header, align, rows, col_widths, line_length)
    lines.append(f" Total params: {sum(counts):,} ({readable_memory_size(sum(sizes))})")
    lines.append(f" Trainable params: {counts[0]:,} ({readable_memory_size(sizes[0])})")
    lines.append(f" Non-trainable params: {counts[1]:,} ({readable_memory_size(sizes[1])})")
    if opt_vars is not None:
        lines.append(f" Optimizer params: {counts[2]:,} ({readable_memory_size(sizes[2])})")
    text = "\n".join(lines) + "\n"
    if print_fn is None:
        from featherflow._src.keras.progbar import print_msg  # noqa: PLC0415
        print_msg(text, line_break=False)
    else:
        print_fn(text)


def _layer_range(layers, layer_range):
    import re  # noqa: PLC0415
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError("layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    ends = [i + 1 for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not starts or not ends:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    if min(starts) > max(ends):
        raise ValueError("layer_range[0] must be before layer_range[1] in the model.")
    return min(starts), max(ends)
