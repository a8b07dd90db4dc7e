"""CycloneDX export through cyclonedx-python-lib, validated before anything is written.

Mapping:

- the scan's subject is ``metadata.component``; every other component is a component
  with ``bom-ref`` = its depchain id, purl, version, hashes and external references;
- ``scope`` follows reachability from the subject: ``required`` through required
  runtime edges, ``optional`` when an extra is on the way, ``excluded`` when only
  build-time or dev edges reach it;
- each edge becomes a ``dependsOn`` entry, and, since CycloneDX edges carry no
  attributes, a ``depchain:dependency`` property on the target naming the dependent,
  kind, scope, mechanism and evidence; ``depchain:kinds`` lists every kind reaching it;
- evidence is also written as ``evidence.occurrences`` (file and line);
- what components declare goes into the standard fields: ``licenses`` (declared, as
  an SPDX id, an expression, or the ids and names declared when no expression says how
  they combine; none when unknown, with a ``depchain:license-unknown`` property saying
  why), ``supplier`` (:func:`depchain.supplier.supplier_of`: the owner, never the
  author), ``authors``, ``description``, ``hashes`` and ``externalReferences`` (vcs,
  website, issue tracker, documentation, distribution, ...);
- ``metadata``: the subject as ``component``, depchain in ``tools.components``, the
  SBOM's ``authors`` and ``manufacturer`` (``sbom-author`` / ``sbom-manufacturer`` of
  the policy, or :func:`with_options`), and the ``lifecycles`` phase of what was
  scanned (``pre-build`` for sources, ``build`` for a wheel, ``post-build`` for an
  installed environment).
"""

from __future__ import annotations

import enum
import hashlib
import uuid
import warnings
from collections import deque
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from depchain import __version__
from depchain.errors import DepchainError
from depchain.model import Component, Dependency, DependencyKind, Scope, Service, SourceKind
from depchain.redaction import redact_url
from depchain.scanner import ScanResult
from depchain.supplier import Supplier, supplier_of
from depchain.timestamps import now

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom

    from depchain.graph import DependencyGraph


class Format(str, enum.Enum):
    JSON = "cyclonedx-json"
    XML = "cyclonedx-xml"


SPEC_VERSIONS = ("1.5", "1.6", "1.7")
DEFAULT_SPEC = "1.6"

_HASHES = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha3_256": "SHA3-256",
    "sha3_384": "SHA3-384",
    "sha3_512": "SHA3-512",
    "blake2b_256": "BLAKE2b-256",
    "blake2b_384": "BLAKE2b-384",
    "blake2b_512": "BLAKE2b-512",
}
_RANK = {"required": 2, "optional": 1, "excluded": 0}
MAX_VERSION = 1024
"""The longest component version CycloneDX's schemas accept."""
_TOO_LONG = f"longer than CycloneDX's {MAX_VERSION} characters: not a release's version"


class ExportError(DepchainError):
    """The document failed its own schema: a depchain bug, never written out."""


def scopes(result: ScanResult) -> dict[str, str]:
    """Each component's CycloneDX scope, from what reaches it and how."""
    graph = result.graph
    best: dict[str, str] = {}
    queue: deque[tuple[str, str]] = deque()
    # The runtime projects' own needs decide (the subject, a workspace's members);
    # other projects in the tree (examples, tools) are not part of what it ships, so
    # what only they reach is excluded.
    from depchain.model import Role

    shipped = [
        result.subject,
        *sorted(
            p for p, role in result.projects.items() if role is Role.RUNTIME and p != result.subject
        ),
    ]
    starts = [(p, "required") for p in shipped] + [
        (root, "excluded") for root in graph.roots() if root not in shipped
    ]
    for node, state in starts:
        if node in graph and node not in best:
            best[node] = state
            queue.append((node, state))
    while queue:
        node, state = queue.popleft()
        if best.get(node) != state:
            continue
        for dep in graph.dependencies_of(node):
            if dep.kind is DependencyKind.SERVICE:
                continue
            if dep.kind is DependencyKind.BUILD or dep.scope is Scope.DEV:
                child = "excluded"
            elif dep.scope is Scope.OPTIONAL:
                child = "optional" if state == "required" else state
            else:
                child = state
            if _RANK[child] > _RANK.get(best.get(dep.target, ""), -1):
                best[dep.target] = child
                queue.append((dep.target, child))
    return best


def _edge_property(dep: Dependency) -> str:
    where = ", ".join(f"{e.path}:{e.line}" if e.line else e.path for e in dep.evidence)
    parts = [
        f"from={dep.source}",
        f"kind={dep.kind.value}",
        f"scope={dep.scope.value}",
        f"mechanism={dep.mechanism}",
    ]
    if dep.groups:
        parts.append("groups=" + ",".join(dep.groups))
    parts.append(f"evidence={where}")
    return "; ".join(parts)


def lifecycle(result: ScanResult) -> str:
    """The CycloneDX lifecycle phase of what was scanned: ``build`` for a wheel (a
    build's output), ``post-build`` for an installed environment, ``pre-build`` for a
    repository or a manifest (sources, before any build)."""
    resolvers = {i.resolver for i in result.inputs}
    if "environment" in resolvers:
        return "post-build"
    if result.target.suffix == ".whl" and resolvers == {"wheel"}:
        return "build"
    return "pre-build"


def with_options(
    result: ScanResult,
    *,
    author: str | None = None,
    manufacturer: str | None = None,
    component_name: str | None = None,
    component_version: str | None = None,
) -> ScanResult:
    """``result`` as the SBOM should describe it (``depchain sbom`` options): the
    document's author and manufacturer (over the policy's ``sbom-author`` and
    ``sbom-manufacturer``), and the name and version of its root component (over what
    the scan found: the project's own, or an environment's folder). The result given is
    left as it is."""
    from dataclasses import replace as copy

    from depchain.trust.policy import Policy

    policy = result.policy
    if author is not None or manufacturer is not None:
        policy = copy(
            policy or Policy(),
            sbom_author=_one_line(author) or (policy.sbom_author if policy else None),
            sbom_manufacturer=_one_line(manufacturer)
            or (policy.sbom_manufacturer if policy else None),
        )
    graph = result.graph
    if component_name or component_version:
        subject = graph.node(result.subject)
        if isinstance(subject, Component):
            graph = graph.copy()
            name = _one_line(component_name) or subject.name
            version = _one_line(component_version) or subject.version
            props = {p for p in subject.properties if p[0] != "depchain:named-after"}
            props.add(("depchain:named-after", "the --component-name/--component-version options"))
            renamed = copy(
                subject,
                name=name,
                version=version,
                purl=_renamed_purl(subject, name, version),
                properties=tuple(sorted(props)),
            )
            graph.replace_node(renamed)
    return copy(result, policy=policy, graph=graph)


def _renamed_purl(subject: Component, name: str, version: str | None) -> str | None:
    """The root's purl under its new name: a generic one (an environment's, a folder's)
    follows the name; another names a package that the new name may not be: none."""
    if (name, version) == (subject.name, subject.version):
        return subject.purl
    if subject.ecosystem == "generic":
        from depchain.ids import purl

        return purl("generic", name, version)
    return None


def _contact_text(contact: Any) -> str:
    """``Name <email>``, or whichever of the two there is."""
    if contact.name and contact.email:
        return f"{contact.name} <{contact.email}>"
    return str(contact.name or contact.email)


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def build_bom(result: ScanResult, spec_version: str = DEFAULT_SPEC) -> Bom:
    """cyclonedx-python-lib's model of ``result``. For CycloneDX 1.5, which has no
    component ``authors`` and no metadata ``manufacturer``, the same facts go where 1.5
    keeps them: the component's ``author`` (one line) and the metadata's
    ``manufacture``."""
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
    )
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentScope, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
    from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
    from cyclonedx.model.dependency import Dependency as CdxDependency
    from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
    from cyclonedx.model.tool import ToolRepository
    from packageurl import PackageURL

    graph = result.graph
    scope_of = scopes(result)
    policy = result.policy
    before_1_6 = spec_version == "1.5"
    manufacturer = (
        OrganizationalEntity(name=policy.sbom_manufacturer)
        if policy is not None and policy.sbom_manufacturer
        else None
    )

    def convert(c: Component, is_subject: bool) -> CdxComponent:
        hashes = [
            HashType(alg=HashAlgorithm(_HASHES[h.algorithm]), content=h.value)
            for h in c.hashes
            if h.algorithm in _HASHES and h.well_formed
        ]
        refs = []
        for link in c.links:
            uri = _uri(link.url)
            if uri is not None:
                refs.append(
                    ExternalReference(
                        type=ExternalReferenceType(link.kind),
                        url=uri,
                        comment=f"declared as {link.label}" if link.label else None,
                    )
                )
        declared_source = _uri(dict(c.properties).get("depchain:declared-source"))
        if declared_source is not None and not any(link.kind == "vcs" for link in c.links):
            refs.append(
                ExternalReference(
                    type=ExternalReferenceType.VCS,
                    url=declared_source,
                    comment="the source repository the package index declares",
                )
            )
        for s in c.sources:
            if not s.url or s.kind is SourceKind.PATH:
                continue
            kind = (
                ExternalReferenceType.VCS
                if s.kind is SourceKind.VCS
                else ExternalReferenceType.DISTRIBUTION
            )
            url = s.url + (
                f"@{s.commit or s.ref}" if s.kind is SourceKind.VCS and (s.commit or s.ref) else ""
            )
            uri = _uri(url)
            if uri is not None:  # one the schema would refuse stays a property
                refs.append(ExternalReference(type=kind, url=uri))
        # what resolvers copied as written (a METADATA Project-URL) is redacted here too
        props = [Property(name=k, value=redact_url(v)) for k, v in c.properties]
        version = c.version
        if version is not None and len(version) > MAX_VERSION:  # the schema's maxLength
            props.append(Property(name="depchain:version-omitted", value=_TOO_LONG))
            version = None
        props.append(Property(name="depchain:ecosystem", value=c.ecosystem))
        if c.license is not None:
            props.append(Property(name="depchain:license-source", value=c.license.source))
            if not c.license.known:
                props.append(
                    Property(
                        name="depchain:license-unknown",
                        value=c.license.unknown or "declared as nothing SPDX or named",
                    )
                )
        supplier = supplier_of(c)
        if supplier is not None:
            props.append(Property(name="depchain:supplier-source", value=supplier.source))
        for s in c.sources:
            props.append(Property(name="depchain:source", value=_source_text(s)))
        incoming = graph.dependents(c.id)
        kinds = sorted({d.kind.value for d in incoming})
        if kinds:
            props.append(Property(name="depchain:kinds", value=",".join(kinds)))
        props.extend(
            Property(name="depchain:dependency", value=_edge_property(d)) for d in incoming
        )
        occurrences = [  # a fixed bom-ref: the library orders occurrences by it
            Occurrence(bom_ref=f"{c.id}#{e.path}:{e.line or 0}", location=e.path, line=e.line)
            for e in sorted(set(c.evidence), key=lambda e: (e.path, e.line or 0))
            if e.path != "."
        ]
        scope = None if is_subject else ComponentScope(scope_of.get(c.id, "required"))
        contacts = [
            OrganizationalContact(name=a.name, email=a.email)
            for a in c.authors
            if a.name or a.email
        ]
        entity = _entity(supplier) if supplier is not None else None
        if is_subject and entity is None and manufacturer is not None:
            entity = manufacturer  # who makes the product supplies it
        return CdxComponent(
            bom_ref=c.id,
            name=c.name,
            version=version,
            type=ComponentType(c.type.value),
            purl=PackageURL.from_string(c.purl) if c.purl else None,
            supplier=entity,
            authors=[] if before_1_6 else contacts,
            author=_one_line(", ".join(_contact_text(a) for a in contacts)) if before_1_6 else None,
            description=c.description,
            licenses=_licenses(c),
            hashes=hashes,
            scope=scope,
            external_references=_unique_refs(refs),
            properties=props,
            evidence=ComponentEvidence(occurrences=occurrences) if occurrences else None,
        )

    converted = {c.id: convert(c, c.id == result.subject) for c in graph.components()}
    subject = converted.pop(result.subject)
    # Handed over in the library's own order, its sorted set takes them in linear time.
    ordered = sorted(
        converted.values(),
        key=lambda c: (c.type.value, c.group or "", c.name, c.version or "", c.bom_ref.value),
    )
    services = {sv.id: _service(sv, graph) for sv in graph.services()}
    tool = CdxComponent(
        type=ComponentType.APPLICATION,
        purl=PackageURL("pypi", name="depchain", version=__version__),
        name="depchain",
        version=__version__,
        supplier=OrganizationalEntity(name="The depchain authors"),
        licenses=_licenses_of_expression("Apache-2.0"),
    )
    bom = Bom(
        components=ordered,
        services=services.values(),
        metadata=BomMetaData(
            component=subject,
            timestamp=now(),
            tools=ToolRepository(components=[tool]),
            authors=(
                [OrganizationalContact(name=policy.sbom_author)]
                if policy is not None and policy.sbom_author
                else []
            ),
            manufacturer=None if before_1_6 else manufacturer,
            manufacture=manufacturer if before_1_6 else None,
            lifecycles=[PredefinedLifecycle(LifecyclePhase(lifecycle(result)))],
        ),
        serial_number=_serial(result),
    )
    every: dict[str, Any] = {**converted, **services, result.subject: subject}
    # Bom.register_dependency searches every registered dependency on each call
    # (quadratic); building the Dependency objects directly keeps export linear.
    bom.dependencies.update(
        CdxDependency(
            ref=cdx.bom_ref,
            dependencies=[
                CdxDependency(ref=every[t].bom_ref)
                for t in sorted({d.target for d in graph.dependencies_of(node_id)})
                if t in every
            ],
        )
        for node_id, cdx in every.items()
    )
    bom.vulnerabilities.update(_vulnerabilities(result, every))
    return bom


def _uri(url: str | None) -> Any:
    """``url`` as the library's URI type, or None when the schema's IRI format or the
    library would refuse it (blanks, control characters, a second ``#``:
    ``https://matrix.to/#/#room:matrix.org``, declared as a project URL, failed a whole
    export)."""
    from cyclonedx.model import XsUri

    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        return XsUri(url)
    except Exception:
        return None


def _unique_refs(refs: list[Any]) -> list[Any]:
    """One reference per (type, URL): the first, which says the most (a declared
    label before a plain source)."""
    seen: dict[tuple[str, str], Any] = {}
    for ref in refs:
        seen.setdefault((str(ref.type.value), str(ref.url)), ref)
    return list(seen.values())


def _entity(supplier: Supplier) -> Any:
    """A supplier as a CycloneDX organizational entity: the organization, or the people
    who own a project as its contacts."""
    from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity

    contacts = [OrganizationalContact(name=p) for p in supplier.people]
    if supplier.email:
        contacts.append(OrganizationalContact(email=supplier.email))
    return OrganizationalEntity(
        name=supplier.name,
        contacts=contacts,
        urls=[u for u in [_uri(supplier.url)] if u is not None],
    )


def _licenses(component: Component) -> list[Any]:
    """The declared licence in CycloneDX's shapes: an expression alone (a single SPDX
    id as ``license.id``, which more readers understand); else each declared id and
    name as a licence of its own. Unknown: none."""
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
    from cyclonedx.spdx import is_supported_id

    found = component.license
    if found is None:
        return []
    if found.expression:
        return _licenses_of_expression(found.expression)
    declared = LicenseAcknowledgement.DECLARED
    out = []
    for spdx in found.ids:
        if is_supported_id(spdx):
            out.append(DisjunctiveLicense(id=spdx, acknowledgement=declared))
        else:  # newer than the schema's licence list: its name, as declared
            out.append(DisjunctiveLicense(name=spdx, acknowledgement=declared))
    out.extend(DisjunctiveLicense(name=n, acknowledgement=declared) for n in found.names)
    return out


def _licenses_of_expression(expression: str) -> list[Any]:
    from cyclonedx.model.license import (
        DisjunctiveLicense,
        LicenseAcknowledgement,
        LicenseExpression,
    )
    from cyclonedx.spdx import is_supported_id

    declared = LicenseAcknowledgement.DECLARED
    if is_supported_id(expression):
        return [DisjunctiveLicense(id=expression, acknowledgement=declared)]
    return [LicenseExpression(expression, acknowledgement=declared)]


_ADVISORY_URLS = {
    "PYSEC-": "https://osv.dev/vulnerability/",
    "GHSA-": "https://github.com/advisories/",
    "RUSTSEC-": "https://rustsec.org/advisories/",
    "GO-": "https://pkg.go.dev/vuln/",
    "CVE-": "https://nvd.nist.gov/vuln/detail/",
}


def _vulnerabilities(result: ScanResult, every: dict[str, Any]) -> list[Any]:
    """CycloneDX ``vulnerabilities``: one per advisory and component it affects, with
    ``affects`` pointing at the component's bom-ref, its ratings (CVSS vector and score,
    else the advisory's severity word), its other ids as references, and the fixed
    versions as the recommendation; an ignored one carries the policy's reason as its
    analysis."""
    from decimal import Decimal

    from cyclonedx.model.impact_analysis import ImpactAnalysisState
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityAdvisory,
        VulnerabilityAnalysis,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    def source_of(identifier: str) -> Any:
        for prefix, url in _ADVISORY_URLS.items():
            if identifier.startswith(prefix):
                return VulnerabilitySource(name=prefix.rstrip("-"), url=_uri(url + identifier))
        return VulnerabilitySource(
            name="OSV", url=_uri("https://osv.dev/vulnerability/" + identifier)
        )

    if result.audit is None:
        return []
    from depchain.render import printable

    out = []
    for component, advisories in result.audit.found.items():
        if component not in every:
            continue
        for a in advisories:
            a = replace(
                a,
                summary=printable(a.summary),
                aliases=tuple(printable(i) for i in a.aliases),
                id=printable(a.id),
            )
            severity = VulnerabilitySeverity(a.severity.value)
            ratings = [
                VulnerabilityRating(
                    source=source_of(a.id),
                    score=Decimal(str(c.score)) if c.score is not None else None,
                    severity=severity,
                    method=(
                        VulnerabilityScoreSource.CVSS_V4
                        if c.vector.startswith("CVSS:4")
                        else VulnerabilityScoreSource.CVSS_V3_1
                        if c.vector.startswith("CVSS:3.1")
                        else VulnerabilityScoreSource.CVSS_V3
                        if c.vector.startswith("CVSS:3")
                        else VulnerabilityScoreSource.OTHER
                    ),
                    vector=c.vector,
                )
                for c in a.cvss
            ] or [VulnerabilityRating(source=source_of(a.id), severity=severity)]
            ignore = result.ignored.get((component, a.id))
            out.append(
                Vulnerability(
                    bom_ref=f"{a.id}|{component}",
                    id=a.id,
                    source=source_of(a.id),
                    references=[
                        VulnerabilityReference(id=alias, source=source_of(alias))
                        for alias in a.aliases
                    ],
                    ratings=ratings,
                    description=a.summary or None,
                    recommendation=(f"Upgrade to {', '.join(a.fixed_in)}" if a.fixed_in else None),
                    advisories=[
                        VulnerabilityAdvisory(url=u)
                        for u in (_uri(r) for r in a.references[:5])
                        if u is not None
                    ],
                    published=_datetime(a.published),
                    updated=_datetime(a.modified),
                    analysis=(
                        VulnerabilityAnalysis(
                            state=ImpactAnalysisState.NOT_AFFECTED,
                            detail=f"{ignore.reason} (until {ignore.expires.isoformat()})",
                        )
                        if ignore
                        else None
                    ),
                    affects=[BomTarget(ref=every[component].bom_ref.value)],
                )
            )
    return out


def _datetime(text: str | None) -> Any:
    import datetime as dt

    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _service(service: Service, graph: DependencyGraph) -> Any:
    """A depchain service as a CycloneDX service: endpoints (credentials already
    redacted), the trust boundary, and depchain's facts as properties."""
    from cyclonedx.model import Property
    from cyclonedx.model.service import Service as CdxService

    props = [Property(name=k, value=v) for k, v in service.properties]
    if service.image:
        props.append(Property(name="depchain:image", value=service.image))
    props.extend(
        Property(name="depchain:evidence", value=f"{e.path}:{e.line}" if e.line else e.path)
        for e in service.evidence
    )
    props.extend(
        Property(name="depchain:dependency", value=_edge_property(d))
        for d in graph.dependents(service.id)
    )
    endpoints = []
    for endpoint in service.endpoints:
        uri = _uri(endpoint)
        if uri is not None:
            endpoints.append(uri)
        else:  # not a URI the schema takes: keep it as a property
            props.append(Property(name="depchain:endpoint", value=endpoint))
    authentication = {v for k, v in service.properties if k == "depchain:authentication"}
    authenticated = None if not authentication else authentication != {"none"}
    return CdxService(
        bom_ref=service.id,
        name=service.name,
        endpoints=endpoints,
        x_trust_boundary=service.trust_boundary,
        authenticated=authenticated,
        properties=props,
    )


def _source_text(s: object) -> str:
    from depchain.model import Source

    assert isinstance(s, Source)
    parts = [s.kind.value, s.url or "default-index"]
    if s.ref:
        parts.append(f"ref={s.ref}")
    if s.commit:
        parts.append(f"commit={s.commit}")
    if s.editable:
        parts.append("editable")
    return " ".join(parts)


def _serial(result: ScanResult) -> uuid.UUID:
    """Same content, same serial number; any change (a hash, an evidence line), another:
    a name-based UUID (version 5) of the scan's whole content, without its timestamp."""
    import json

    from depchain.export import json_report

    content = json_report.build(result)
    for volatile in ("generated", "target"):
        content.pop(volatile, None)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return uuid.uuid5(uuid.NAMESPACE_URL, f"urn:depchain:scan:{digest}")


def render(result: ScanResult, fmt: Format = Format.JSON, spec_version: str = DEFAULT_SPEC) -> str:
    """The document as text, validated against the CycloneDX schema of ``spec_version``.

    The model is cyclonedx-python-lib's (:func:`build_bom`); it is written by
    :mod:`depchain.export.cyclonedx_fast`, which gives the library's outputters' text in
    time linear in the document (the outputters' model check and bom-ref bookkeeping
    are quadratic), and validated before anything is returned. The collector is off
    while the model is built and written: it holds hundreds of thousands of objects
    and no cycle, and the collector's passes over them cost as much as making them
    (the model of 10,000 components: 4.4 s of CPU with it off, 8.7 s with it on).
    """
    import gc

    from cyclonedx.schema import SchemaVersion

    from depchain.export import cyclonedx_fast

    if spec_version not in SPEC_VERSIONS:
        raise DepchainError(
            f"CycloneDX {spec_version} is not supported (choose {', '.join(SPEC_VERSIONS)})"
        )
    version = SchemaVersion.from_version(spec_version)
    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library warns about incomplete dependency trees
            bom = build_bom(result, spec_version)
            if fmt is Format.JSON:
                text = cyclonedx_fast.to_json(bom, version, end="\n")
            else:
                text = cyclonedx_fast.to_xml(bom, version)
            del bom  # the model goes before the document is parsed to be validated
    finally:
        if collecting:
            gc.enable()
    validate(text, fmt, spec_version)
    return text if text.endswith("\n") else text + "\n"


def validate(text: str, fmt: Format, spec_version: str) -> None:
    """Raise :class:`ExportError` unless ``text`` is valid CycloneDX ``spec_version``.

    XML goes through the library's ``XmlValidator`` as it is (lxml and the bundled XSD:
    10,000 components in 0.4 s). JSON goes through the library's bundled strict JSON
    schema (the one ``JsonStrictValidator`` loads, with the SPDX, JSF and cryptography
    schemas it refers to) run by jsonschema-rs
    (:func:`depchain.export.cyclonedx_fast.validate_json`): 10,000 components in 0.2 s
    with the parse, where jsonschema took 3.8 s and the library's stock validator
    minutes (``uniqueItems`` compares every pair). URI and IRI formats are checked as
    before (no blank, none of the characters RFC 3987 excludes), e-mail addresses as
    jsonschema does; every other rule as the schema says.
    """
    if fmt is Format.XML:
        xml_error = _xml_validator(spec_version).validate_str(text)
        if xml_error is not None:
            raise ExportError(f"CycloneDX {spec_version} XML failed schema validation: {xml_error}")
        return
    import json

    from depchain.export.cyclonedx_fast import validate_json

    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ExportError(f"CycloneDX {spec_version} JSON is not JSON: {exc}") from None
    error = validate_json(document, spec_version)
    if error is not None:
        where, message = error
        raise ExportError(
            f"CycloneDX {spec_version} JSON failed schema validation at /{where}: {message}"
        )


@lru_cache(maxsize=4)
def _xml_validator(spec_version: str) -> Any:
    """The library's XML validator of ``spec_version``, its schema compiled once."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    return XmlValidator(SchemaVersion.from_version(spec_version))
