"""Exporters: each turns a :class:`~depchain.scanner.ScanResult` into a document."""
