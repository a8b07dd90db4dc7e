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
a provenance object is read: scans served from the cache never import it. It is the
``attest`` extra (``pip install depchain[attest]``), not a core dependency, so that the
pre-commit hook's environment stays small. Without it the provenance object is still read
(its publishers, checked for shape only) and every attestation is ``verified`` None with
the reason and :data:`EXTRA_HINT`: never True, whatever the object claims.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

logging.getLogger("sigstore").addHandler(logging.NullHandler())
# sigstore logs a warning for each offline verifier; a library prints nothing unless the
# application configured logging


EXTRA_HINT = "install depchain[attest] to verify"
"""Said with every attestation that was not verified because the verifier is absent."""


class MalformedProvenance(ValueError):
    """The answer is not a PEP 740 provenance object (one line: what is wrong)."""


def verifier_available() -> bool:
    """Whether pypi-attestations is installed (found, not imported: cheap)."""
    try:
        return importlib.util.find_spec("pypi_attestations") is not None
    except (ImportError, ValueError):  # None in sys.modules, or a broken module entry
        return False


def awaits_verifier(facts: dict[str, Any]) -> bool:
    """Whether ``facts`` (an earlier :func:`read`, perhaps cached) went unverified only
    because the verifier was absent, and it is installed now: worth reading again."""
    verification = facts.get("verification")
    return (
        facts.get("verified") is None
        and isinstance(verification, str)
        and verification.endswith(EXTRA_HINT)
        and verifier_available()
    )


def read(data: dict[str, Any], filename: str, sha256: str | None) -> dict[str, Any]:
    """``{"publishers": [...], "verified": bool | None, "verification": str}`` for one
    file's provenance object. Raises :class:`MalformedProvenance`.

    Without the ``attest`` extra: the publishers the object names and ``verified`` None."""
    try:
        from pydantic import ValidationError
        from pypi_attestations import Provenance
    except ImportError as exc:
        return _read_unverified(data, _absent(exc))

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
        publishers.append(_publisher(publisher.model_dump()))
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


def _publisher(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": str(fields.get("kind") or "unknown"),
        "repository": _text(fields.get("repository")),
        "workflow": _text(fields.get("workflow") or fields.get("workflow_filepath")),
        "environment": _text(fields.get("environment")),
    }


def _absent(exc: ImportError) -> str:
    """Why nothing can be verified here, ending with :data:`EXTRA_HINT`."""
    if exc.name in {"pypi_attestations", "pydantic"} and not verifier_available():
        return f"not verified: pypi-attestations is not installed; {EXTRA_HINT}"
    return (
        f"not verified: pypi-attestations could not be imported "
        f"({type(exc).__name__}: {_first_line(exc)}); {EXTRA_HINT}"
    )


def _read_unverified(data: object, reason: str) -> dict[str, Any]:
    """The shape of a provenance object (PEP 740: ``version`` 1, ``attestation_bundles``,
    each a ``publisher`` with a ``kind`` and a list of ``attestations``), checked by hand
    as the verifier's models would; the publishers; ``verified`` None for ``reason``."""

    def malformed(where: str, what: str) -> MalformedProvenance:
        return MalformedProvenance(f"malformed provenance ({where}: {what})")

    if not isinstance(data, dict):
        raise malformed("provenance", "Input should be an object")
    if data.get("version", 1) != 1:
        raise malformed("version", "Input should be 1")
    bundles = data.get("attestation_bundles")
    if not isinstance(bundles, list):
        what = "Field required" if bundles is None else "Input should be a valid list"
        raise malformed("attestation_bundles", what)
    publishers = []
    attestations = 0
    for i, bundle in enumerate(bundles):
        where = f"attestation_bundles.{i}"
        if not isinstance(bundle, dict):
            raise malformed(where, "Input should be an object")
        publisher = bundle.get("publisher")
        if not isinstance(publisher, dict) or not isinstance(publisher.get("kind"), str):
            raise malformed(f"{where}.publisher", "Input should be a publisher with a kind")
        listed = bundle.get("attestations")
        if not isinstance(listed, list):
            raise malformed(f"{where}.attestations", "Input should be a valid list")
        publishers.append(_publisher(publisher))
        attestations += len(listed)
    if not attestations:
        return {"publishers": publishers, "verified": None, "verification": "no attestations"}
    return {"publishers": publishers, "verified": None, "verification": reason}


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
