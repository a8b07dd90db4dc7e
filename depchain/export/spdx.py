"""SPDX 2.3 JSON export through spdx-tools, validated before anything is written.

The mapping is kept in step with :mod:`depchain.export.cyclonedx`: the same packages
(every component of the graph, every service), the same root, the same facts.

- The document ``DESCRIBES`` the scan's subject (CycloneDX's ``metadata.component``).
- Every component is a package: name, ``versionInfo``, supplier (the owner the scan
  knows, else ``NOASSERTION``), licences (``NOASSERTION`` unless the model holds an
  SPDX expression), checksums, the purl as a ``PACKAGE-MANAGER purl`` reference,
  ``downloadLocation`` (a VCS or archive source, else ``NOASSERTION``), ``filesAnalyzed``
  false, and in its comment the depchain id (the CycloneDX ``bom-ref``), ecosystem,
  kinds, sources, evidence and properties.
- Every service is a package with purpose ``OTHER``; its endpoints (credentials
  redacted), trust boundary, image and evidence are in its comment.
- Every edge is a relationship whose type names its kind, in the direction the SPDX 2.3
  specification gives each type (clause 11.1, table 68):

  ======================================== =========================================
  edge ``A -> B`` (A depends on B)         relationship
  ======================================== =========================================
  ``build`` (test group or test files)     ``B TEST_DEPENDENCY_OF A``
  ``build`` (dev scope, other groups)      ``B DEV_DEPENDENCY_OF A``
  ``build`` (other)                        ``B BUILD_DEPENDENCY_OF A``
  ``static``                               ``A STATIC_LINK B`` (A statically links B)
  ``dynamic``, mechanism ``elf``           ``A DYNAMIC_LINK B`` (A dynamically links B)
  ``dynamic``, scope ``optional``          ``B OPTIONAL_DEPENDENCY_OF A``
  ``dynamic``, scope ``dev``               as ``build`` in the dev scope
  ``dynamic`` (imports, requirements...)   ``B RUNTIME_DEPENDENCY_OF A``
  ``service``                              ``A DEPENDS_ON B``
  ======================================== =========================================

  A relationship's comment says which edges it stands for (kind, scope, mechanism,
  groups, evidence), one line per edge: two edges of the same pair that map to the same
  type (a requirement and its lock entry) are one relationship.

The namespace is derived from the scan's content, as the CycloneDX serial number is, and
``created`` honours ``SOURCE_DATE_EPOCH``: the same scan gives the same bytes.

spdx-tools (and the rdflib stack it brings) is the ``spdx`` extra: the pre-commit hook's
install stays small. Without it, the export stops with one line naming the extra.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from depchain import __version__
from depchain.errors import DepchainError
from depchain.model import (
    Component,
    ComponentType,
    Dependency,
    DependencyKind,
    Role,
    Scope,
    Service,
    SourceKind,
)
from depchain.redaction import redact_text
from depchain.scanner import ScanResult
from depchain.timestamps import now

if TYPE_CHECKING:
    from spdx_tools.spdx.model.actor import Actor
    from spdx_tools.spdx.model.document import Document
    from spdx_tools.spdx.model.package import Package
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

SPEC_VERSION = "SPDX-2.3"
INSTALL_HINT = "pip install 'depchain[spdx]'"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/depchain"
"""Where document namespaces are rooted: the SPDX examples' convention, as other tools
use it; a namespace is a unique identifier, never fetched."""


class SpdxUnavailable(DepchainError):
    """spdx-tools is not installed (the ``spdx`` extra)."""


class SpdxExportError(DepchainError):
    """The document failed spdx-tools' validation: a depchain bug, never written out."""


# -- the mapping ----------------------------------------------------------------------

_TEST_GROUP = re.compile(r"(?i)(^|[^a-z])tests?([^a-z]|$)|testing")
_AGGREGATE_GROUPS = frozenset({"all"})
"""Group names that only gather other groups: they say nothing of what a dependency is for."""


def relationship_type(dep: Dependency) -> tuple[str, bool]:
    """The SPDX relationship type of ``dep``, and whether it reads from the dependent to
    the dependency (``A STATIC_LINK B``) rather than the other way (``B
    BUILD_DEPENDENCY_OF A``)."""
    if dep.kind is DependencyKind.SERVICE:
        return "DEPENDS_ON", True
    if dep.kind is DependencyKind.STATIC:
        return "STATIC_LINK", True
    if dep.kind is DependencyKind.DYNAMIC and dep.mechanism == "elf":
        return "DYNAMIC_LINK", True
    if dep.kind is DependencyKind.BUILD or dep.scope is Scope.DEV:
        return _build_type(dep), False
    if dep.scope is Scope.OPTIONAL:
        return "OPTIONAL_DEPENDENCY_OF", False
    return "RUNTIME_DEPENDENCY_OF", False


def _build_type(dep: Dependency) -> str:
    """Test when only test files bring it in (a ``tests/requirements.txt``), or when the
    groups that do are all test groups (``testing``, ``tests``, ``requirements-test``);
    dev when it is in the dev scope or in other groups (lint, docs, a dev section,
    pre-commit); else a build dependency (the build system, CI, build-time crates)."""
    roles = {e.role for e in dep.evidence}
    if roles and roles <= {Role.TEST}:
        return "TEST_DEPENDENCY_OF"
    groups = [g for g in dep.groups if g.lower() not in _AGGREGATE_GROUPS]
    if groups and all(_TEST_GROUP.search(g) for g in groups):
        return "TEST_DEPENDENCY_OF"
    if groups or dep.scope is Scope.DEV:
        return "DEV_DEPENDENCY_OF"
    return "BUILD_DEPENDENCY_OF"


def license_of(component: Component) -> str | None:
    """The licence the model holds for ``component`` as an SPDX expression, or None: its
    declared expression, or its one declared SPDX id (several ids that do not say how
    they combine, and names SPDX does not know, are no expression: they go to the
    package's licence comments)."""
    declared = component.license
    if declared is None:
        return None
    if declared.expression:
        return declared.expression
    if len(declared.ids) == 1 and not declared.names:
        return declared.ids[0]
    return None


def license_comment(component: Component) -> str | None:
    """What was declared that is no SPDX expression, in words."""
    declared = component.license
    if declared is None or license_of(component) is not None:
        return None
    said = [*declared.ids, *declared.names]
    if said:
        return f"declared ({declared.source}): " + "; ".join(said)
    return f"unknown: {declared.unknown}" if declared.unknown else None


def supplier_of(component: Component) -> Actor | SpdxNoAssertion:
    """The supplier :func:`depchain.supplier.supplier_of` finds (the same as the
    CycloneDX export's): an organization, or the index users who hold a role on a
    project without one (people). Unknown is ``NOASSERTION``, never a guess."""
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    from depchain.supplier import supplier_of as find

    found = find(component)
    if found is None or not found.name.strip():
        return SpdxNoAssertion()
    kind = ActorType.PERSON if found.kind == "person" else ActorType.ORGANIZATION
    return Actor(kind, _text(found.name), found.email)


_CHECKSUMS = {
    "md5": "MD5",
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
    "sha3_256": "SHA3_256",
    "sha3_384": "SHA3_384",
    "sha3_512": "SHA3_512",
    "blake2b_256": "BLAKE2B_256",
    "blake2b_384": "BLAKE2B_384",
    "blake2b_512": "BLAKE2B_512",
}

_PURPOSES = {
    ComponentType.APPLICATION: "APPLICATION",
    ComponentType.LIBRARY: "LIBRARY",
    ComponentType.FRAMEWORK: "FRAMEWORK",
    ComponentType.CONTAINER: "CONTAINER",
    ComponentType.OPERATING_SYSTEM: "OPERATING_SYSTEM",
    ComponentType.FILE: "FILE",
}

_ADVISORY_URLS = {
    "PYSEC-": "https://osv.dev/vulnerability/",
    "GHSA-": "https://github.com/advisories/",
    "RUSTSEC-": "https://rustsec.org/advisories/",
    "GO-": "https://pkg.go.dev/vuln/",
    "CVE-": "https://nvd.nist.gov/vuln/detail/",
}
"""The same advisory pages as the CycloneDX export's sources."""

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")
_ID_MAX = 120
_PURL = re.compile(r"^pkg:.+(\/.+)?\/.+(@.+)?(\?.+)?(#.+)?$")
"""What spdx-tools accepts as a purl locator."""
_VCS_TOOL = re.compile(r"(?i)^(git|hg|svn|bzr)\+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str) -> str:
    """A value from the input as it goes into the document: credentials hidden, control
    characters (other than line breaks and tabs) escaped."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], redact_text(value))


def spdx_ids(result: ScanResult) -> dict[str, str]:
    """Each node's SPDXID: ``SPDXRef-Package-`` or ``SPDXRef-Service-`` and its id (the
    purl without ``pkg:``), every character SPDX does not allow a ``-``. An id cut for
    length, or that would be another's, ends with a digest of the whole id, so every
    SPDXID is unique and the same scan gives the same ones."""
    wanted: dict[str, str] = {}
    for prefix, ids in (
        ("Package", (c.id for c in result.graph.components())),
        ("Service", (s.id for s in result.graph.services())),
    ):
        for node_id in ids:
            body = _ID_UNSAFE.sub("-", node_id.removeprefix("pkg:")).strip("-") or "x"
            if len(body) > _ID_MAX:
                body = f"{body[:_ID_MAX].rstrip('-')}-{_digest(node_id)}"
            wanted[node_id] = f"SPDXRef-{prefix}-{body}"
    taken = Counter(wanted.values())
    out = {
        node_id: spdx_id if taken[spdx_id] == 1 else f"{spdx_id}-{_digest(node_id)}"
        for node_id, spdx_id in wanted.items()
    }
    if len(set(out.values())) != len(out):  # a digest that collides: never in practice
        raise SpdxExportError("two nodes of the graph were given the same SPDXID")
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _edge_line(dep: Dependency) -> str:
    """One edge as a relationship's comment says it (the CycloneDX export's
    ``depchain:dependency`` property, without the dependent it already names)."""
    parts = [f"kind={dep.kind.value}", f"scope={dep.scope.value}", f"mechanism={dep.mechanism}"]
    if dep.groups:
        parts.append("groups=" + ",".join(dep.groups))
    if dep.extras:
        parts.append("extras=" + ",".join(dep.extras))
    where = ", ".join(f"{e.path}:{e.line}" if e.line else e.path for e in dep.evidence)
    parts.append(f"evidence={where}")
    return "; ".join(parts)


def _source_text(kind: SourceKind, url: str | None, ref: str | None, commit: str | None) -> str:
    parts = [kind.value, url or "default-index"]
    if ref:
        parts.append(f"ref={ref}")
    if commit:
        parts.append(f"commit={commit}")
    return " ".join(parts)


def _download_location(component: Component) -> str | None:
    """A VCS source as SPDX writes one (``git+https://host/repo@commit#subdir``), else an
    archive URL; None when the component has neither (registry, path) or spdx-tools
    would not take it as a download location."""
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    for s in component.sources:
        if not s.url or s.kind not in (SourceKind.VCS, SourceKind.URL):
            continue
        location = s.url
        if s.kind is SourceKind.VCS:
            if not _VCS_TOOL.match(location):
                location = "git+" + location
            if s.commit or s.ref:
                location += f"@{s.commit or s.ref}"
            if s.subdirectory:
                location += f"#{s.subdirectory}"
        location = _text(location)
        if not any(ch.isspace() for ch in location) and not validate_download_location(location):
            return location
    return None


# -- building the document ------------------------------------------------------------


def _require() -> None:
    try:
        import spdx_tools.spdx.model.document  # noqa: F401
    except ImportError:
        raise SpdxUnavailable(
            f"SPDX export needs spdx-tools, which is not installed: {INSTALL_HINT}"
        ) from None


def build_document(result: ScanResult, organization: str | None = None) -> Document:
    """The scan as an spdx-tools ``Document`` (not yet validated)."""
    _require()
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType

    graph = result.graph
    ids = spdx_ids(result)
    # the product's maker (``--manufacturer``, the policy's ``sbom-manufacturer``) is
    # the document's creator and its subject's supplier, as in the CycloneDX export
    maker = result.policy.sbom_manufacturer if result.policy else None
    organization = organization or maker
    packages = [_package(c, ids[c.id], result) for c in graph.components()]
    packages.extend(_service_package(s, ids[s.id], result) for s in graph.services())
    subject = graph.node(result.subject)

    relationships = [
        Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ids[result.subject])
    ]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for dep in graph.dependencies():
        kind, forward = relationship_type(dep)
        a, b = (dep.source, dep.target) if forward else (dep.target, dep.source)
        grouped.setdefault((ids[a], kind, ids[b]), []).append(_text(_edge_line(dep)))
    relationships.extend(
        Relationship(a, RelationshipType[kind], b, comment="\n".join(lines))
        for (a, kind, b), lines in sorted(grouped.items())
    )

    creators = [Actor(ActorType.TOOL, f"depchain-{__version__}")]
    if organization:
        creators.append(Actor(ActorType.ORGANIZATION, _text(organization)))
    name = subject.name + (
        f"-{subject.version}" if isinstance(subject, Component) and subject.version else ""
    )
    info = CreationInfo(
        spdx_version=SPEC_VERSION,
        spdx_id="SPDXRef-DOCUMENT",
        name=_text(name),
        document_namespace=_namespace(result, name, organization),
        creators=creators,
        created=now(),
        document_comment=_document_comment(result),
    )
    return Document(info, packages=packages, relationships=relationships)


def _package(c: Component, spdx_id: str, result: ScanResult) -> Package:
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    checksums = [
        Checksum(ChecksumAlgorithm[algorithm], value)
        for algorithm, value in dict.fromkeys(
            (_CHECKSUMS[h.algorithm], h.value.lower())
            for h in c.hashes
            if h.algorithm in _CHECKSUMS and h.well_formed
        )
    ]
    refs = []
    if c.purl and _PURL.match(c.purl) and not any(ch.isspace() for ch in c.purl):
        refs.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", _text(c.purl))
        )
    refs.extend(_advisories(c.id, result))
    declared, license_comment = _license(c)
    return Package(
        spdx_id=spdx_id,
        name=_text(c.name) or c.id,
        download_location=_download_location(c) or SpdxNoAssertion(),
        version=_text(c.version) if c.version else None,
        supplier=_subject_supplier(c, result) or supplier_of(c),
        files_analyzed=False,
        checksums=checksums,
        # depchain reads metadata, not the files: it concludes nothing of its own
        license_concluded=SpdxNoAssertion(),
        license_declared=declared,
        license_comment=license_comment,
        comment=_component_comment(c, result),
        external_references=refs,
        primary_package_purpose=PackagePurpose[_PURPOSES[c.type]],
    )


def _license(c: Component) -> tuple[Any, str | None]:
    """The declared licence as spdx-tools' expression, or NOASSERTION with the text in
    the licence comment when it is not an expression of the SPDX licence list."""
    from license_expression import ExpressionError  # type: ignore[import-untyped]
    from spdx_tools.common.spdx_licensing import (  # type: ignore[import-untyped]
        spdx_licensing,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    text = license_of(c)
    if text is None:
        said = license_comment(c)
        return SpdxNoAssertion(), _text(said) if said else None
    try:
        expression = spdx_licensing.parse(text)
        valid = expression is not None and not spdx_licensing.validate(text).invalid_symbols
    except ExpressionError:
        valid = False
    if valid:
        return expression, None
    return SpdxNoAssertion(), _text(f"declared as {text!r}, not an SPDX licence expression")


def _advisories(component: str, result: ScanResult) -> list[Any]:
    """Known vulnerabilities as ``SECURITY advisory`` references (SPDX 2.3 annex K.1.1);
    one the policy ignores says why in its comment."""
    from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory

    if result.audit is None:
        return []
    refs = []
    for a in result.audit.found.get(component, ()):
        url = next(
            (base + a.id for prefix, base in _ADVISORY_URLS.items() if a.id.startswith(prefix)),
            "https://osv.dev/vulnerability/" + a.id,
        )
        if any(ch.isspace() for ch in url):
            continue
        ignore = result.ignored.get((component, a.id))
        comment = f"{a.id} ({a.severity.value})"
        if ignore is not None:
            comment += f"; ignored by policy: {ignore.reason} (until {ignore.expires.isoformat()})"
        refs.append(
            ExternalPackageRef(
                ExternalPackageRefCategory.SECURITY, "advisory", _text(url), _text(comment)
            )
        )
    return refs


def _component_comment(c: Component, result: ScanResult) -> str:
    """What the CycloneDX export says in properties and evidence, one fact a line."""
    lines = [f"depchain:id={c.id}", f"depchain:ecosystem={c.ecosystem}"]
    kinds = sorted({d.kind.value for d in result.graph.dependents(c.id)})
    if kinds:
        lines.append("depchain:kinds=" + ",".join(kinds))
    lines.extend(
        "depchain:source=" + _source_text(s.kind, s.url, s.ref, s.commit) for s in c.sources
    )
    lines.extend(f"{k}={v}" for k, v in c.properties)
    lines.extend(_evidence_lines(c.evidence))
    return _text("\n".join(lines))


def _evidence_lines(evidence: Iterable[Any]) -> list[str]:
    return [
        f"depchain:evidence={e.path}:{e.line}" if e.line else f"depchain:evidence={e.path}"
        for e in evidence
        if e.path != "."
    ]


def _service_package(service: Service, spdx_id: str, result: ScanResult) -> Package:
    from spdx_tools.spdx.model.package import Package, PackagePurpose
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    lines = [f"depchain:id={service.id}", "depchain:type=service"]
    lines.extend(f"depchain:endpoint={e}" for e in service.endpoints)
    if service.trust_boundary is not None:
        lines.append(f"depchain:trust-boundary={str(service.trust_boundary).lower()}")
    if service.image:
        lines.append(f"depchain:image={service.image}")
    lines.extend(f"{k}={v}" for k, v in service.properties)
    lines.extend(_evidence_lines(service.evidence))
    return Package(
        spdx_id=spdx_id,
        name=_text(service.name) or service.id,
        download_location=SpdxNoAssertion(),
        supplier=SpdxNoAssertion(),
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        comment=_text("\n".join(lines)),
        primary_package_purpose=PackagePurpose.OTHER,
    )


def _document_comment(result: ScanResult) -> str | None:
    """An incomplete scan says so: the files it could not read."""
    if not result.errors:
        return None
    listed = [str(e) for e in result.errors[:20]]
    more = len(result.errors) - len(listed)
    return _text(
        f"Incomplete: {len(result.errors)} input file(s) could not be read:\n"
        + "\n".join(listed)
        + (f"\n... and {more} more" if more else "")
    )


def _subject_supplier(c: Component, result: ScanResult) -> Any:
    """The subject's supplier when its maker is named (``--manufacturer``)."""
    maker = result.policy.sbom_manufacturer if result.policy else None
    if c.id != result.subject or not maker:
        return None
    from spdx_tools.spdx.model.actor import Actor, ActorType

    return Actor(ActorType.ORGANIZATION, _text(maker))


def _namespace(result: ScanResult, name: str, organization: str | None) -> str:
    """Same content, same namespace; any change, another: a name-based UUID of the
    scan's whole content (the depchain JSON report without its timestamp and absolute
    target, as the CycloneDX serial number), and of the creator."""
    import json

    from depchain.export import json_report

    content = json_report.build(result)
    for volatile in ("generated", "target"):
        content.pop(volatile, None)
    content["spdx-creator-organization"] = organization
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    document = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:depchain:spdx:{digest}")
    slug = _ID_UNSAFE.sub("-", name).strip("-")[:_ID_MAX] or "scan"
    return f"{NAMESPACE_BASE}/{slug}-{document}"


# -- validating and writing -------------------------------------------------------------


def validate(document: Document) -> None:
    """Raise :class:`SpdxExportError` unless spdx-tools finds ``document`` valid SPDX 2.3.

    spdx-tools' own ``validate_full_spdx_document`` is quadratic: each relationship's
    ends are looked up in a list of every element built anew, and each package scans
    every relationship for files it might contain (2,216 packages and 2,588
    relationships: 3.5 s; ten times more, minutes). The same validators are run here on
    documents shaped for them: the whole document with only the relationships the
    document and package checks read (``DESCRIBES``, ``DESCRIBED_BY``, ``CONTAINS``,
    ``CONTAINED_BY``), then each other relationship against a document holding the
    elements it names, found by id (an id the document does not hold is not found, and
    the relationship fails as it would). Same verdicts, in linear time. Duplicate
    SPDXIDs, which spdx-tools does not look for, are refused too."""
    from spdx_tools.spdx.model.document import Document
    from spdx_tools.spdx.model.file import File
    from spdx_tools.spdx.model.package import Package
    from spdx_tools.spdx.model.relationship import RelationshipType
    from spdx_tools.spdx.model.snippet import Snippet
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from spdx_tools.spdx.validation.relationship_validator import validate_relationship

    elements: dict[str, Package | File | Snippet] = {}
    every: list[Package | File | Snippet] = [*document.packages, *document.files]
    every.extend(document.snippets)
    for element in every:
        if element.spdx_id in elements:
            raise SpdxExportError(f"SPDX 2.3 document holds the SPDXID {element.spdx_id} twice")
        elements[element.spdx_id] = element
    read_by_checks = {
        RelationshipType.DESCRIBES,
        RelationshipType.DESCRIBED_BY,
        RelationshipType.CONTAINS,
        RelationshipType.CONTAINED_BY,
    }
    head = [r for r in document.relationships if r.relationship_type in read_by_checks]
    whole = Document(
        document.creation_info,
        packages=document.packages,
        files=document.files,
        snippets=document.snippets,
        annotations=document.annotations,
        relationships=head,
        extracted_licensing_info=document.extracted_licensing_info,
    )
    messages = validate_full_spdx_document(whole, SPEC_VERSION)
    for relationship in document.relationships:
        if messages:
            break
        if relationship.relationship_type in read_by_checks:
            continue
        ends = [
            elements[i]
            for i in dict.fromkeys(
                (relationship.spdx_element_id, relationship.related_spdx_element_id)
            )
            if isinstance(i, str) and i in elements
        ]
        messages = validate_relationship(
            relationship,
            SPEC_VERSION,
            Document(
                document.creation_info,
                packages=[e for e in ends if isinstance(e, Package)],
                files=[e for e in ends if isinstance(e, File)],
                snippets=[e for e in ends if isinstance(e, Snippet)],
            ),
        )
    if messages:
        first = messages[0]
        where = first.context.spdx_id or first.context.parent_id or "document"
        raise SpdxExportError(
            f"SPDX 2.3 document failed validation at {where}: {first.validation_message}"
        )


def render(result: ScanResult, organization: str | None = None) -> str:
    """The scan as SPDX 2.3 JSON, validated by spdx-tools before it is returned.

    ``organization``: named as a creator beside the tool (``Organization: X``)."""
    _require()
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    document = build_document(result, organization)
    validate(document)
    out = io.StringIO()
    # validated above; the relationships are unique by construction and the packages'
    # lists hold no duplicates, so the writer's validation and copy are not redone
    write_document_to_stream(document, out, validate=False, drop_duplicates=False)
    text = out.getvalue()
    return text if text.endswith("\n") else text + "\n"
