"""Reading a contract or module file: bounded, and with the reason when it cannot be read.

A path on the command line or in an ``import`` may name anything: a folder, a pipe or device
(``/dev/zero`` never ends, a FIFO blocks until someone writes), a symbolic link that loops, a
binary file or a huge one. Each is refused with a reason a person can act on, before any byte
is read from something that is not a plain file, and never more than :data:`MAX_BYTES` bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: The largest contract or module pmirc reads (the bundled contracts are under 100 KB).
MAX_BYTES = 8 << 20


NO_SUCH_FILE = "no such file"


class SourceError(Exception):
    """Why a file cannot be read as pmir text (the message completes "cannot read FILE: ")."""


def read_source(path: Path) -> str:
    """The text of a pmir file (UTF-8, a byte order mark allowed), or SourceError."""
    try:
        info = os.stat(path)
    except OSError as e:
        raise SourceError(_os_reason(e)) from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError("it is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("it is a pipe or device, not a file (pmirc reads only plain files)")
    if info.st_size > MAX_BYTES:
        raise SourceError(f"it is {info.st_size:,} bytes, more than a contract can be "
                          f"({MAX_BYTES:,} bytes at most)")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise SourceError(_os_reason(e)) from None
    return _decode(data)


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise SourceError(f"it is more than {MAX_BYTES:,} bytes, more than a contract can be")
    if b"\0" in data:
        raise SourceError("it is a binary file, not pmir text (it holds NUL bytes)")
    try:  # Windows and old Mac line ends read as '\n', as open() in text mode reads them
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise SourceError(f"it is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); "
                          "save it as UTF-8") from None


def _os_reason(e: OSError) -> str:
    reasons = {errno.ENOENT: NO_SUCH_FILE, errno.ELOOP: "a symbolic link that loops",
               errno.EACCES: "permission denied", errno.ENAMETOOLONG: "the name is too long",
               errno.ENOTDIR: "a part of the path is not a folder"}
    return reasons.get(e.errno or 0, e.strerror or str(e))
