"""What ``glossify up`` and ``glossify demo`` print, and where everything else goes.

Ray and Serve write to the process's standard output and error from many places: the driver's
loggers, the thread that relays workers' output (``(pid=…)`` lines), the raylet's error
messages, C++ code. ``Console.take_over`` points file descriptors 1 and 2 at a log file under
``GLOSSIFY_HOME/logs/`` for the rest of the process, so all of that lands there whoever writes
it, and keeps a stream on the terminal for Glossify's own lines (``say``). Glossify's own
warnings (the ``glossify`` logger) go to both.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LOGS_DIRECTORY = "logs"


def log_file_path(home: Path, now: float | None = None) -> Path:
    """``<home>/logs/ray-<YYYYmmdd-HHMMSS>.log`` (a number added when that name is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    directory = home / LOGS_DIRECTORY
    path = directory / f"ray-{stamp}.log"
    number = 1
    while path.exists():
        number += 1
        path = directory / f"ray-{stamp}-{number}.log"
    return path


@dataclass
class Console:
    """The terminal, and the log file that receives everything else."""

    stream: TextIO
    log_path: Path | None = None

    @classmethod
    def plain(cls) -> Console:
        """Standard output as it is (``glossify stream``, tests)."""
        return cls(sys.stdout)

    @classmethod
    def take_over(cls, home: Path) -> Console:
        """From now on, whatever anything in this process (or a child it starts) writes to
        standard output or error goes to a new log file; the returned console writes to the
        terminal."""
        path = log_file_path(home)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        sys.stdout.flush()
        sys.stderr.flush()
        terminal = os.dup(sys.stdout.fileno())
        log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
        finally:
            os.close(log_fd)
        encoding = sys.stdout.encoding or "utf-8"
        stream = os.fdopen(terminal, "w", buffering=1, encoding=encoding, errors="replace")
        console = cls(stream, path)
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("glossify: %(message)s"))
        logging.getLogger("glossify").addHandler(handler)
        return console

    def say(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def failed(self, command: str, exc: BaseException) -> None:
        """A one-line account of a failure on the terminal, the traceback in the log."""
        if self.log_path is None:
            traceback.print_exception(exc)
            return
        with self.log_path.open("a") as log:
            traceback.print_exception(exc, file=log)
        self.say(f"glossify {command} failed: {type(exc).__name__}: {exc}")
        self.say(f"Details: {self.log_path}")
