"""Enrichment: what the package index knows about a component and the files do not.

:mod:`index` decides which index is asked (``--index-url``, else pip's own
configuration, else PyPI); :mod:`cache` keeps the answers on disk with an expiry, and
:mod:`facts` checks each one read back (a malformed entry is a miss); :mod:`pypi` asks
the Simple API and PyPI's JSON and Integrity APIs for ownership, release files and
attestation publishers, every request through :mod:`fetch` (deadlines per request and
per scan, size caps, redirects only where they may go). Nothing here is imported on a
scan that does not enrich.
"""
