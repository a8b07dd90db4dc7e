"""Enrichment: what the package index knows about a component and the files do not.

:mod:`index` decides which index is asked (``--index-url``, else pip's own
configuration, else PyPI); :mod:`cache` keeps the answers on disk with an expiry;
:mod:`pypi` asks PyPI's JSON and Integrity APIs for ownership, release files and
attestation publishers. Nothing here is imported on a scan that does not enrich.
"""
