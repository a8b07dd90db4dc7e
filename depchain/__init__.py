"""depchain: a software supply-chain dependency auditor.

``depchain.scan(path)`` reads a repository, builds one dependency graph whose edges
are build-time, statically linked, dynamically linked or service dependencies, and
returns a :class:`~depchain.scan.ScanResult`. It prints nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ScanResult", "__version__", "scan"]

if TYPE_CHECKING:
    from depchain.scan import ScanResult, scan


def __getattr__(name: str) -> Any:  # lazy: ``import depchain`` stays cheap
    if name in {"scan", "ScanResult"}:
        from depchain import scan as module

        return getattr(module, name)
    raise AttributeError(name)
