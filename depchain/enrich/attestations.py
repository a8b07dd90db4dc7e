"""PEP 740 provenance objects, parsed and verified with pypi-attestations.

:func:`read` takes the JSON an index served as a file's provenance, the file's name and
the sha256 the index lists for it, and returns the publisher of each attestation bundle
and whether every attestation verifies:

- the Sigstore certificate chains to the Sigstore public-good trust root and the entry
  is in its transparency log (sigstore-python's verifier, with the trust root that
  ships with it or that it cached before: ``offline``, no TUF refresh is asked);
- the certificate's identity is the bundle's Trusted Publisher (for GitHub: the
  repository and the workflow file);
- the signed statement's subject is this file: same name, same sha256.

The three outcomes are kept apart: ``verified`` True (all of that holds), False (an
attestation does not verify: the reason is said), None (it could not be checked: no
sha256 listed for the file, or the verifier could not run here).

pypi-attestations (and sigstore, pydantic, cryptography under it) is imported only when
a provenance object is read: scans served from the cache never import it.
"""

from __future__ import annotations

import logging
from typing import Any

logging.getLogger("sigstore").addHandler(logging.NullHandler())
# sigstore logs a warning for each offline verifier; a library prints nothing unless the
# application configured logging


class MalformedProvenance(ValueError):
    """The answer is not a PEP 740 provenance object (one line: what is wrong)."""


def read(data: dict[str, Any], filename: str, sha256: str | None) -> dict[str, Any]:
    """``{"publishers": [...], "verified": bool | None, "verification": str}`` for one
    file's provenance object. Raises :class:`MalformedProvenance`."""
    from pydantic import ValidationError
    from pypi_attestations import Provenance

    try:
        provenance = Provenance.model_validate(data)
    except ValidationError as exc:
        details = exc.errors()
        where = ".".join(str(p) for p in details[0]["loc"]) if details else ""
        what = details[0]["msg"] if details else "invalid"
        raise MalformedProvenance(
            f"malformed provenance ({where or 'provenance'}: {what})"
        ) from None
    publishers = []
    outcomes: list[tuple[bool | None, str]] = []
    for bundle in provenance.attestation_bundles:
        publisher = bundle.publisher
        fields = publisher.model_dump()
        publishers.append(
            {
                "kind": str(fields.get("kind") or "unknown"),
                "repository": _text(fields.get("repository")),
                "workflow": _text(fields.get("workflow") or fields.get("workflow_filepath")),
                "environment": _text(fields.get("environment")),
            }
        )
        for attestation in bundle.attestations:
            outcomes.append(_verify(attestation, publisher, filename, sha256))
    if not outcomes:
        return {"publishers": publishers, "verified": None, "verification": "no attestations"}
    failed = [reason for ok, reason in outcomes if ok is False]
    unchecked = [reason for ok, reason in outcomes if ok is None]
    if failed:
        return {"publishers": publishers, "verified": False, "verification": failed[0]}
    if unchecked:
        return {"publishers": publishers, "verified": None, "verification": unchecked[0]}
    return {
        "publishers": publishers,
        "verified": True,
        "verification": f"{len(outcomes)} attestation(s) verified against the file's sha256",
    }


def _verify(
    attestation: Any, publisher: Any, filename: str, sha256: str | None
) -> tuple[bool | None, str]:
    from pypi_attestations import AttestationError, Distribution

    if not sha256:
        return None, "the index lists no sha256 for the file"
    try:
        dist = Distribution(name=filename, digest=sha256)
    except ValueError as exc:
        return None, f"not a distribution file name ({_first_line(exc)})"
    try:
        attestation.verify(publisher, dist, offline=True)
    except AttestationError as exc:
        return False, _reason(exc)
    except Exception as exc:  # the verifier's own environment (trust root, cache dir)
        return None, f"could not verify here ({type(exc).__name__}: {_first_line(exc)})"
    return True, "verified"


def _reason(exc: BaseException) -> str:
    """The verifier's message, without the certificate extension's repr that the
    Trusted Publisher check puts in it."""
    text = _first_line(exc, limit=2000)
    head, found, tail = text.partition("Build Config URI (<Extension")
    if found and ") does not match expected" in tail:
        tail = tail.split(") does not match expected", 1)[1]
        text = f"{head}Build Config URI does not match expected{tail}"
    return text[:300]


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:limit] if text else type(exc).__name__


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
