"""Keras 3's progress bar (`tf.keras.utils.Progbar`), as `fit`/`evaluate`/`predict` print it.

On a terminal (stdout is a TTY, or a notebook kernel) the bar is redrawn in place with `\\r`:

      37/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 1ms/step - accuracy: 0.6000 - loss: 1.2000

Elsewhere (a log file, a pipe) nothing is redrawn: with `verbose=1` only the final line of each
bar is printed, without the cursor and colour control sequences Keras writes there.
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np


def print_msg(message: str, line_break: bool = True):
    """Writes to the current `sys.stdout` (so redirections and pytest's capture see it)."""
    out = sys.stdout
    out.write(message + ("\n" if line_break else ""))
    out.flush()


def is_tty(stream=None) -> bool:
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return "ipykernel" in sys.modules


def _fmt_value(avg, stateful_abs=True):
    if (abs(avg) if stateful_abs else avg) > 1e-3:
        return f" {avg:.4f}"
    return f" {avg:.4e}"


class Progbar:
    """Displays a progress bar.

    Args (as Keras): `target` (total steps, None if unknown), `width`, `verbose` (0 silent,
    1 bar, 2 one line when finished), `interval` (seconds between redraws), `stateful_metrics`
    or `stateless_metrics` (which values are shown as given rather than averaged), `unit_name`.

    >>> import featherflow as tf
    >>> bar = tf.keras.utils.Progbar(3, verbose=0)
    >>> bar.update(3, [("loss", 0.5)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Only one of `stateful_metrics` or `stateless_metrics` can be "
                             "provided. Received: both.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateful_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = set(stateful_metrics), None
        elif stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics, self.stateless_metrics = set(), None
        self._dynamic_display = is_tty()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def wants_update(self, current) -> bool:
        """Whether `update(current, values)` would draw now (so callers can skip computing
        values that would not be shown)."""
        if self.verbose != 1 or not self._dynamic_display:
            return False
        return time.time() - self._last_update >= self.interval

    def _record(self, current, values, finalize):
        for k, v in values or ():
            if k not in self._values_order:
                self._values_order.append(k)
            if self.stateful_metrics is not None:
                stateless = k not in self.stateful_metrics
            else:
                stateless = k in self.stateless_metrics
            if stateless and not finalize:
                base = max(current - self._seen_so_far, 1)
                if k in self._values:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
                else:
                    self._values[k] = [v * base, base]
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current

    def _metrics_text(self, abs_compare=True):
        info = ""
        for k in self._values_order:
            total, count = self._values[k]
            if not isinstance(total, float):
                total = np.mean(total)
            info += f" - {k}:" + _fmt_value(total / max(1, count), abs_compare)
        return info

    def update(self, current, values=None, finalize=None):
        """Records `values` (a list of (name, value)) at step `current` and redraws."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        now = time.time()
        per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if not self._dynamic_display:
                if finalize:
                    print_msg(self._line(current, now, per_unit, finalize, colour=False))
                self._last_update = now
                return
            if now - self._last_update < self.interval and not finalize:
                return
            line = self._line(current, now, per_unit, finalize, colour=True)
            width = self._visible_width
            message = "\b" * self._prev_total_width + "\r" + line
            if self._prev_total_width > width:
                message += " " * (self._prev_total_width - width)
            if finalize:
                message += "\n"
            print_msg(message, line_break=False)
            self._prev_total_width = width
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s"
            info += " -" + self._format_time(per_unit, self.unit_name)
            info += self._metrics_text(abs_compare=False)
            print_msg(info)
        self._last_update = now

    def _line(self, current, now, per_unit, finalize, colour):
        def style(text, code):
            return f"\x1b[{code}m{text}\x1b[0m" if colour else text
        if self.target:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * current / self.target)
            bar = style(count, 1) + " "
            plain = count + " " + "━" * self.width
            if done > 0:
                bar += style("━" * done, 32)
            bar += style("━" * (self.width - done), 37)
        else:
            bar = plain = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                eta_text = f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
            elif eta > 60:
                eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}"
            else:
                eta_text = f"{int(eta)}s"
        else:
            eta_text = f"{now - self._start:.0f}s"
        rest = self._format_time(per_unit, self.unit_name) + self._metrics_text()
        self._visible_width = len(plain) + 1 + len(eta_text) + len(rest)
        return bar + " " + style(eta_text, 1) + rest

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    @staticmethod
    def _format_time(per_unit, unit_name):
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{unit_name}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1e3:.0f}ms/{unit_name}"
        return f" {per_unit * 1e6:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        # The first step (tracing, warm-up) is left out of the estimate once there are more.
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
