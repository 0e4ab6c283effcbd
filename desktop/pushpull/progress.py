"""The progress bar push and pull draw on stderr, and the hook a background job follows them by."""

import sys
import time


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise.

    `on_update(label, done, total)`, when given, hears every step, drawn or not (a job in the
    running app records its stage and counts through it; desktop/pushpull/jobs.py)."""

    def __init__(self, label, total, stream=None, enabled=True, on_update=None):
        self.label, self.total, self.done = label, total, 0
        self.on_update = on_update
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.started = time.monotonic()
        self._drawn, self._tenth = 0.0, -1
        self.update(0)

    def update(self, step=1):
        self.done += step
        if self.on_update is not None:
            self.on_update(self.label, self.done, self.total)
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._drawn < 0.1 and self.done < self.total:
                return
            self._drawn = now
            self.stream.write("\r" + self._line())
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            tenth = min(10, self.done * 10 // self.total)
            if tenth == self._tenth:
                return
            self._tenth = tenth
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def _line(self):
        width = 30
        filled = width * min(self.done, self.total) // self.total
        elapsed = time.monotonic() - self.started
        return (f"{self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
                f"{min(self.done, self.total)}/{self.total}  {elapsed:5.1f}s")
