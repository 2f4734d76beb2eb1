"""The library's own modules, compiled once per environment and found by their content.

act gives every action step a fresh copy of the library, and runners that set
PYTHONDONTWRITEBYTECODE keep no __pycache__: without this, each step compiled the whole
CLI again (0.03–0.07 s a step here). The bootstrap makes FOLDER in the environment it
creates; while it is there, this package's modules load through a loader that looks their
code up by a hash of the source, so any copy of a file, wherever it lies, finds it. A miss
compiles as Python would and stores the result. Only this package is affected, and only in
the bootstrap's environments: a developer's venv and the interpreter's own pycache rules
are left alone."""

from __future__ import annotations

import _imp
import contextlib
import marshal
import os
import sys
from importlib.machinery import SOURCE_SUFFIXES, FileFinder, SourceFileLoader
from importlib.util import MAGIC_NUMBER, source_hash

FOLDER = ".deploy-actions-bytecode"  # in the environment (sys.prefix); the bootstrap makes it
KEEP = 2000  # entries; a miss beyond this empties the folder (older versions' code piles up)

_folder = ""


class CachedLoader(SourceFileLoader):
    """SourceFileLoader whose bytecode lives in _folder under the source's hash, not beside
    the source under its path."""

    def get_code(self, fullname: str):
        path = self.get_filename(fullname)
        source = self.get_data(path)
        entry = os.path.join(_folder, f"{source_hash(source).hex()}-{sys.flags.optimize}.pyc")
        try:
            with open(entry, "rb") as fh:
                data = fh.read()
            if data[:4] != MAGIC_NUMBER:
                raise ValueError(entry)
            code = marshal.loads(data[4:])
        except (OSError, ValueError, EOFError, TypeError):
            code = self.source_to_code(source, path)
            store(entry, code)
            return code
        _imp._fix_co_filename(code, path)  # compiled from another copy: tracebacks name this one
        return code


def store(entry: str, code) -> None:
    """Write atomically (steps of parallel jobs may race for the same entry); a cache that
    cannot be written is only slower."""
    partial = f"{entry}.{os.getpid()}"
    try:
        if len(os.listdir(_folder)) > KEEP:
            for name in os.listdir(_folder):
                os.unlink(os.path.join(_folder, name))
        with open(partial, "wb") as fh:
            fh.write(MAGIC_NUMBER + marshal.dumps(code))
        os.replace(partial, entry)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)


def install(package_dir: str, folder: str | None = None) -> bool:
    """Load the modules under package_dir through CachedLoader when the environment has
    FOLDER (or `folder` is given and exists)."""
    global _folder
    folder = folder or os.path.join(sys.prefix, FOLDER)
    if not os.path.isdir(folder):
        return False
    _folder = folder
    finder = FileFinder.path_hook((CachedLoader, SOURCE_SUFFIXES))

    def hook(path: str):
        if path == package_dir or path.startswith(package_dir + os.sep):
            return finder(path)
        raise ImportError(path)  # not ours: the next hook

    sys.path_hooks.insert(0, hook)
    for path in [p for p in sys.path_importer_cache if p == package_dir or p.startswith(package_dir + os.sep)]:
        del sys.path_importer_cache[path]
    return True
