"""depchain: a software supply-chain dependency auditor.

``depchain.scan(path)`` reads a repository, builds one dependency graph whose edges
are build-time, statically linked, dynamically linked or service dependencies, and
returns a :class:`~depchain.scanner.ScanResult`. It prints nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ScanResult", "__version__", "scan"]

if TYPE_CHECKING:
    from depchain.scanner import ScanResult, scan


def __getattr__(name: str) -> Any:  # lazy: ``import depchain`` stays cheap
    if name in {"scan", "ScanResult"}:
        import importlib

        return getattr(importlib.import_module("depchain.scanner"), name)
    raise AttributeError(name)
