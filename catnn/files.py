"""Files the command line reads and writes: all-or-nothing writes, stale temporaries, refused outputs.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_atomic(os.path.join(folder, "m.py"), "x = 1\\n")
>>> sorted(os.listdir(folder))
['m.py']
"""

from __future__ import annotations

from . import messages

__all__ = ["write_atomic", "remove_stale_temporaries", "check_output", "file_kind"]


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (for error messages)."""
    import stat
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((kind for test, kind in kinds if test(mode)), "not a plain file")


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it and ``os.replace``: all or nothing.

    The file gets the mode a new file gets under the umask (``0o666 & ~umask``), not mkstemp's 0600.
    The temporary file is ``.catnn-PID-*.tmp``; those a killed run left behind (their process is gone)
    are removed first, so none survives a kill for long.
    """
    import os
    import tempfile
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".catnn-{os.getpid()}-", suffix=".py.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_temporaries(directory: str) -> list[str]:
    """Remove the ``.catnn-PID-*.tmp`` files in ``directory`` whose process no longer runs (a run
    killed between writing and renaming); the names removed."""
    import os
    import re
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = re.fullmatch(r"\.catnn-(\d+)-[A-Za-z0-9_]+\.py\.tmp", name)
        if match and not _alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    import os
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _umask() -> int:
    import os
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output(output: str, program: str, same_file_message: str) -> None:
    """Refuse an output that is the program itself (same path, or the same file through a symlink or a
    hard link; ``same_file_message`` has a ``{path}`` field) or an existing file that is not a regular
    file (a FIFO, a device), before any work."""
    import os
    import stat
    from catnn.errors import CatnnError
    same = os.path.realpath(output) == os.path.realpath(program)
    try:
        same = same or os.path.samefile(output, program)
        mode = os.stat(output).st_mode
    except OSError:        # no output yet (or no program: load says so)
        mode = None
    if same:
        raise CatnnError(same_file_message.format(path=output))
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):   # a directory: the write says why
        raise CatnnError(messages.OUTPUT_NOT_REGULAR.format(path=output, kind=file_kind(mode)))
