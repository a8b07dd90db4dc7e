"""The minimum elements of any SBOM, per component: ``depchain sbom check``.

Reads a CycloneDX document (JSON or XML, 1.2 to 1.7) or an SPDX 2.x JSON document, made
by depchain or by anyone else (cyclonedx-py, syft, cdxgen, Trivy...), and says which of
the **NTIA minimum elements** (2021) each component lacks, and with ``cisa_2025`` also the
**additions of CISA's 2025 draft** of the minimum elements. Nothing here prints.

Sources, each read for this mapping:

- NTIA, *The Minimum Elements For a Software Bill of Materials (SBOM)*, July 2021
  (https://www.ntia.gov/report/2021/minimum-elements-software-bill-materials-sbom): seven
  data fields: supplier name, component name, version of the component, other unique
  identifiers, dependency relationship ("an upstream component X is included in software
  Y"), author of SBOM data (who may be the software's creator, its supplier or "some
  third party analysis tool"), timestamp.
- CISA, *2025 Minimum Elements for a Software Bill of Materials (SBOM)*, public-comment
  draft of 22 August 2025 (comments until 3 October 2025;
  https://www.cisa.gov/resources-tools/resources/2025-minimum-elements-software-bill-materials-sbom):
  adds **component hash** (with its algorithm), **license**, **tool name** (what generated
  the SBOM) and **generation context** (the lifecycle phase it was made in: before the
  build, at build time, after it); renames supplier name to *software producer*, author
  of SBOM data to *SBOM author* (an entity, the tool now being its own field), other unique
  identifiers to *software identifiers* (at least one: purl, CPE, OmniBOR, SWHID...);
  timestamps are ISO 8601.
- The field crosswalk of CISA's *Framing Software Component Transparency* (2024) as
  tabulated for CycloneDX 1.7 and SPDX 2.3 at https://sbomify.com/compliance/schema-crosswalk
  (SBOM author: ``metadata.authors`` / ``creationInfo.creators``; tool:
  ``metadata.tools`` / a ``Tool:`` creator; generation context: ``metadata.lifecycles[].phase``
  / the creator comment or the document comment), and the SPDX project's *NTIA minimum
  elements how-to* (https://spdx.github.io/spdx-ntia-sbom-howto) for SPDX 2.
- ntia-conformance-checker 6 (the SPDX project's checker), for what it decides on SPDX 2.

**The mapping** (:data:`ELEMENTS`; a value of ``NOASSERTION`` counts as absent
everywhere, and every text is read bounded and with URL credentials hidden). NTIA's:

- *supplier name* (component; CISA 2025: software producer). CycloneDX
  ``supplier.name``, or ``manufacturer.name`` (1.6+: the producer). SPDX ``supplier``
  (``Organization:`` or ``Person:`` and a name; ``originator`` is not the supplier).
- *component name* (component). CycloneDX ``name``; SPDX ``name``.
- *version* (component). CycloneDX ``version``; SPDX ``versionInfo`` (not ``NONE``).
- *unique identifier* (component; CISA 2025: software identifiers). CycloneDX a
  ``purl`` (``pkg:type/name...``), ``cpe``, ``swid.tagId``, ``omniborId`` or ``swhid``. SPDX an
  ``externalRefs`` entry of category PACKAGE-MANAGER (purl...) or PERSISTENT-ID (gitoid,
  swh), or of type ``cpe22Type``/``cpe23Type``.
- *dependency relationship* (component). CycloneDX: the component's ``bom-ref`` is the
  ``ref`` of a ``dependencies`` entry with ``dependsOn`` or ``provides``, or one of those
  targets; or it is nested in (or holds) other components; or it is
  ``metadata.component``, what the document describes. SPDX: the package is an end of a
  DESCRIBES, CONTAINS, DEPENDS_ON, DEPENDENCY_OF (and its BUILD_, DEV_, OPTIONAL_,
  PROVIDED_, TEST_, RUNTIME_ kinds), STATIC_LINK, DYNAMIC_LINK, HAS_PREREQUISITE,
  PREREQUISITE_FOR, OPTIONAL_COMPONENT_OF or PACKAGE_OF relationship, or named in
  ``documentDescribes``; ``X DEPENDS_ON NONE`` (a stated leaf) counts for X, a
  relationship with NOASSERTION for nothing.
- *author of SBOM data* (document; CISA 2025: SBOM author). CycloneDX
  ``metadata.authors[]`` (a name or an email), ``metadata.manufacturer.name`` (1.6+: who
  made the BOM). SPDX a ``Person:`` or ``Organization:`` in ``creationInfo.creators``.
  For the NTIA set a tool counts too (CycloneDX ``metadata.tools``, an SPDX ``Tool:``), as
  the NTIA text and ntia-conformance-checker allow; with the CISA 2025 additions it does
  not, the tool being its own element there.
- *timestamp* (document). CycloneDX ``metadata.timestamp``; SPDX
  ``creationInfo.created``; either an ISO 8601 date and time.

CISA 2025's additions:

- *component hash* (component). CycloneDX ``hashes[]`` (an algorithm and a value); SPDX
  ``checksums[]``.
- *license* (component). CycloneDX ``licenses[]`` (an ``id``, ``name`` or
  ``expression``); SPDX ``licenseConcluded`` or ``licenseDeclared`` (``NONE``, saying
  there is none, counts).
- *tool name* (document). CycloneDX ``metadata.tools`` (the list of 1.2-1.4, or the
  ``components`` and ``services`` of 1.5+); SPDX a ``Tool:`` in ``creationInfo.creators``.
- *generation context* (document). CycloneDX ``metadata.lifecycles[]`` (a ``phase`` or a
  ``name``; 1.5+, so never before); SPDX 2 has no field for it: ``creationInfo.comment``
  (the creator comment) or the document's ``comment``, as the crosswalk says.

The last four are the CISA 2025 additions. The components checked are CycloneDX's
``metadata.component`` and every component, nested ones too (services are not
components); SPDX's packages (files and snippets are not components).

**Completeness.** Each component is checked for each component-level element; a
document-level element is checked once per component too (NTIA asks each component's data
to say who wrote it and when), and holds for all of them when the document has it. An
element's percentage is the share of components for which it holds; **overall** is the
share of all those checks that hold, which is also the mean of the elements' percentages:
every element weighs the same, however many components there are, so a document without
an author cannot reach more than 6/7 (85.7%) of the NTIA set. A document listing no
component has none of the component-level elements (0%), as no minimum is met by
listing nothing. A document is **conformant** when overall is 100%. Percentages are
rounded down, so that 100% is only ever shown for a complete document.

**Against ntia-conformance-checker** (SPDX 2): the same verdict on documents whose
packages have a purl (or another identifier above), are in the graph from what the
document describes, and pass SPDX validation. Where they differ, on purpose:
the checker takes a package's own SPDXID as its unique identifier, where this check asks
for one that is unique outside the document (NTIA: "a look-up key for relevant
databases"); the checker leaves out packages not reachable from what the document
describes, where this check reports each package outside every relationship as missing
its dependency relationship (and takes a relationship among packages as one even when the
document describes none); the checker accepts a ``versionInfo`` of ``NOASSERTION``; and it
also fails a document that does not validate against SPDX 2, which this check does not
validate (``pyspdxtools`` does).

**JSON** (``depchain-sbom-check/1``, :meth:`Report.as_dict`): ``schema``, ``tool``,
``path``, ``format``, ``spec_version``, ``standards``, ``summary`` (``components``,
``checks``, ``satisfied``, ``percent``, ``conformant``), ``elements`` (``id``, ``title``,
``level``, ``standard``, ``satisfied``, ``total``, ``percent``, ``found`` for a
document-level element), ``document`` (``authors``, ``tools``, ``timestamp``,
``contexts``, ``describes``), ``components`` (those missing an element: ``ref``,
``name``, ``version``, ``where``, ``missing``), ``notes``. Percentages are rounded down to
two decimals; lists are sorted. Keys are only ever added within version 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from depchain.diff import (
    MAX_INPUT_SIZE,
    MAX_NESTING,
    _cdx_components,
    _cdx_tools,
    _Reader,
    _spdx_party,
    _text,
    _texts,
    document_text,
    is_xml,
)
from depchain.errors import InputFileError

SCHEMA_ID = "depchain-sbom-check/1"
NTIA = "ntia-2021"
CISA_2025 = "cisa-2025"

__all__ = [
    "CISA_2025",
    "ELEMENTS",
    "MAX_INPUT_SIZE",
    "NTIA",
    "ComponentGap",
    "DocumentFacts",
    "Element",
    "ElementResult",
    "Report",
    "check_bytes",
    "check_file",
]


@dataclass(frozen=True)
class Element:
    id: str
    title: str
    level: str
    """``component`` or ``document``."""
    standard: str
    """:data:`NTIA` or :data:`CISA_2025` (an addition of the 2025 draft)."""
    cyclonedx: str
    spdx: str


ELEMENTS: tuple[Element, ...] = (
    Element(
        "supplier",
        "supplier name",
        "component",
        NTIA,
        "supplier.name, or manufacturer.name (1.6+)",
        "supplier (Organization: or Person:)",
    ),
    Element("name", "component name", "component", NTIA, "name", "name"),
    Element("version", "version", "component", NTIA, "version", "versionInfo"),
    Element(
        "identifier",
        "unique identifier",
        "component",
        NTIA,
        "purl, cpe, swid.tagId, omniborId or swhid",
        "externalRefs: PACKAGE-MANAGER, PERSISTENT-ID, or a SECURITY CPE",
    ),
    Element(
        "dependency",
        "dependency relationship",
        "component",
        NTIA,
        "dependencies (ref with dependsOn or provides, or a target of one), nesting, "
        "metadata.component",
        "an end of a dependency or containment relationship, documentDescribes",
    ),
    Element(
        "author",
        "author of SBOM data",
        "document",
        NTIA,
        "metadata.authors, metadata.manufacturer (NTIA: metadata.tools too)",
        "creationInfo.creators Person: or Organization: (NTIA: Tool: too)",
    ),
    Element(
        "timestamp",
        "timestamp",
        "document",
        NTIA,
        "metadata.timestamp (ISO 8601)",
        "creationInfo.created (ISO 8601)",
    ),
    Element("hash", "component hash", "component", CISA_2025, "hashes", "checksums"),
    Element(
        "license",
        "license",
        "component",
        CISA_2025,
        "licenses (id, name or expression)",
        "licenseConcluded or licenseDeclared",
    ),
    Element("tool", "tool name", "document", CISA_2025, "metadata.tools", "creators Tool:"),
    Element(
        "context",
        "generation context",
        "document",
        CISA_2025,
        "metadata.lifecycles (1.5+)",
        "creationInfo.comment or comment",
    ),
)
BY_ID = {e.id: e for e in ELEMENTS}
_COMPONENT_ELEMENTS = tuple(e.id for e in ELEMENTS if e.level == "component")


# -- the result ----------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFacts:
    """What the document says about itself (texts redacted and bounded)."""

    authors: tuple[str, ...] = ()
    """People and organisations, as ``Person: x``, ``Organization: x``, ``author: x``,
    ``manufacturer: x``."""
    tools: tuple[str, ...] = ()
    timestamp: str | None = None
    timestamp_valid: bool = False
    contexts: tuple[str, ...] = ()
    describes: tuple[str, ...] = ()
    """The components the document says it describes (names, or refs)."""
    services: int = 0


@dataclass(frozen=True)
class ComponentGap:
    """A component lacking at least one required element."""

    ref: str
    name: str
    version: str | None
    where: str
    """Its place in the document (``components[3]``, ``packages[0]``)."""
    missing: tuple[str, ...]
    """Ids of the component-level elements it lacks, in :data:`ELEMENTS` order (those
    of the document are said once, in :attr:`Report.elements`)."""


@dataclass(frozen=True)
class ElementResult:
    element: Element
    satisfied: int
    total: int
    found: tuple[str, ...] = ()
    """A document-level element: what the document says for it."""

    @property
    def percent(self) -> float:
        return _floor_percent(self.satisfied, self.total)


@dataclass(frozen=True)
class Report:
    path: str
    format: str
    """``cyclonedx-json``, ``cyclonedx-xml`` or ``spdx-json``."""
    spec_version: str
    standards: tuple[str, ...]
    components: int
    elements: tuple[ElementResult, ...]
    gaps: tuple[ComponentGap, ...]
    document: DocumentFacts
    notes: tuple[str, ...] = ()
    satisfied: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        """Overall completeness, rounded down to two decimals."""
        return _floor_percent(self.satisfied, self.total)

    @property
    def conformant(self) -> bool:
        return self.total > 0 and self.satisfied == self.total

    def passes(self, min_completeness: float) -> bool:
        """Whether overall completeness is at least ``min_completeness`` percent (exact:
        99.99...% is below 100)."""
        if self.total == 0:
            return False
        return Fraction(self.satisfied * 100, self.total) >= Fraction(str(min_completeness))

    def as_dict(self) -> dict[str, Any]:
        from depchain import __version__

        def element(r: ElementResult) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": r.element.id,
                "title": r.element.title,
                "level": r.element.level,
                "standard": r.element.standard,
                "satisfied": r.satisfied,
                "total": r.total,
                "percent": r.percent,
            }
            if r.element.level == "document":
                out["found"] = list(r.found)
            return out

        doc = self.document
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "depchain", "version": __version__},
            "path": self.path,
            "format": self.format,
            "spec_version": self.spec_version,
            "standards": list(self.standards),
            "summary": {
                "components": self.components,
                "checks": self.total,
                "satisfied": self.satisfied,
                "percent": self.percent,
                "conformant": self.conformant,
            },
            "elements": [element(r) for r in self.elements],
            "document": {
                "authors": list(doc.authors),
                "tools": list(doc.tools),
                "timestamp": doc.timestamp,
                "contexts": list(doc.contexts),
                "describes": list(doc.describes),
            },
            "components": [
                {
                    "ref": g.ref,
                    "name": g.name,
                    "version": g.version,
                    "where": g.where,
                    "missing": list(g.missing),
                }
                for g in self.gaps
            ],
            "notes": list(self.notes),
        }


def _floor_percent(satisfied: int, total: int) -> float:
    if total <= 0:
        return 0.0
    return (satisfied * 10000 // total) / 100


# -- what was read -------------------------------------------------------------------


@dataclass
class _Component:
    ref: str
    name: str
    version: str | None
    where: str
    has: set[str] = field(default_factory=set)


@dataclass
class _Read:
    format: str
    spec_version: str
    components: list[_Component]
    people: tuple[str, ...]
    tools: tuple[str, ...]
    timestamp: str | None
    contexts: tuple[str, ...]
    describes: tuple[str, ...]
    services: int = 0
    notes: list[str] = field(default_factory=list)


_ABSENT = {"", "NOASSERTION"}


def _present(value: str | None) -> bool:
    return value is not None and value.strip().upper() not in _ABSENT


# -- entry points --------------------------------------------------------------------


def check_file(
    path: Path,
    max_size: int = MAX_INPUT_SIZE,
    cisa_2025: bool = False,
    display: str | None = None,
) -> Report:
    """Check the document at ``path`` (read within ``max_size`` bytes); any problem
    reading it is one :class:`InputFileError` naming the file and the place."""
    from depchain.fileio import read_bytes

    display = display or str(path)
    return check_bytes(read_bytes(path, display, max_size), display, cisa_2025)


def check_bytes(data: bytes, display: str, cisa_2025: bool = False) -> Report:
    """Check a document given as its bytes (``display`` names it in messages)."""
    return _evaluate(_read(data, display), display, cisa_2025)


def _read(data: bytes, display: str) -> _Read:
    from depchain.fileio import parse_json

    if is_xml(data):
        return _from_cyclonedx(_cyclonedx_xml(data, display), display, "cyclonedx-xml")
    parsed = parse_json(document_text(data, display), display)
    if not isinstance(parsed, dict):
        raise InputFileError(display, "not a CycloneDX or SPDX document (not a JSON object)")
    if parsed.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(parsed, display, "cyclonedx-json")
    spdx = parsed.get("spdxVersion")
    if isinstance(spdx, str):
        if not spdx.startswith("SPDX-2."):
            raise InputFileError(display, f"{_text(spdx)} is not supported (SPDX 2.x JSON is)")
        return _from_spdx(parsed, display)
    if "@context" in parsed and "spdx" in str(parsed.get("@context"))[:1000].lower():
        raise InputFileError(display, "SPDX 3 is not supported (SPDX 2.x JSON is)")
    schema = parsed.get("schema")
    if isinstance(schema, str) and schema.startswith("depchain-"):
        raise InputFileError(
            display, "is a depchain report, not an SBOM ('depchain sbom' makes one)"
        )
    raise InputFileError(
        display, "not a CycloneDX or SPDX document (no 'bomFormat' or 'spdxVersion')"
    )


# -- CycloneDX -----------------------------------------------------------------------


def _from_cyclonedx(data: dict[str, Any], display: str, fmt: str) -> _Read:
    r = _Reader(display)
    spec = r.text(data, "specVersion", "") or "?"
    metadata = r.obj(data.get("metadata") or {}, "metadata")
    raw = _cdx_components(r, data, metadata)
    linked = _cdx_graph(r, data)
    components: list[_Component] = []
    for where, c in raw:
        at = where + "."
        name = r.text(c, "name", at) or ""
        ref = r.text(c, "bom-ref", at) or ""
        version = r.text(c, "version", at)
        comp = _Component(ref=ref or where, name=name, version=version, where=where)
        if name.strip():
            comp.has.add("name")
        if version and version.strip():
            comp.has.add("version")
        for key in ("supplier", "manufacturer"):
            if c.get(key) is not None:
                party = r.obj(c[key], at + key)
                if _present(r.text(party, "name", f"{at}{key}.")):
                    comp.has.add("supplier")
        if _cdx_identified(r, c, at):
            comp.has.add("identifier")
        if any(
            _present(r.text(h, "content", w + ".")) and _present(r.text(h, "alg", w + "."))
            for w, h in r.objects(c, "hashes", at)
        ):
            comp.has.add("hash")
        if _cdx_licensed(r, c, at):
            comp.has.add("license")
        nested = where != "metadata.component" and ".components[" in where
        if (
            where == "metadata.component"
            or nested
            or c.get("components")
            or (ref and ref in linked)
        ):
            comp.has.add("dependency")
        components.append(comp)
    people: set[str] = set()
    for w, author in r.objects(metadata, "authors", "metadata."):
        who = r.text(author, "name", w + ".") or r.text(author, "email", w + ".")
        if _present(who):
            people.add(f"author: {who}")
    if metadata.get("manufacturer") is not None:
        maker = r.obj(metadata["manufacturer"], "metadata.manufacturer")
        who = r.text(maker, "name", "metadata.manufacturer.")
        if _present(who):
            people.add(f"manufacturer: {who}")
    contexts: set[str] = set()
    for w, phase in r.objects(metadata, "lifecycles", "metadata."):
        said = r.text(phase, "phase", w + ".") or r.text(phase, "name", w + ".")
        if _present(said):
            contexts.add(str(said))
    subject = None
    if metadata.get("component") is not None:
        subject = r.text(metadata["component"], "name", "metadata.component.")
    return _Read(
        format=fmt,
        spec_version=spec,
        components=components,
        people=tuple(sorted(people)),
        tools=tuple(_cdx_tools(r, metadata)),
        timestamp=r.text(metadata, "timestamp", "metadata."),
        contexts=tuple(sorted(contexts)),
        describes=(subject,) if subject else (),
        services=len(r.items(data, "services", "")),
    )


def _cdx_graph(r: _Reader, data: dict[str, Any]) -> set[str]:
    """The bom-refs that take part in a relationship of ``dependencies``."""
    linked: set[str] = set()
    for where, dep in r.objects(data, "dependencies", ""):
        at = where + "."
        ref = r.text(dep, "ref", at)
        targets = _texts(r, dep, "dependsOn", at) + _texts(r, dep, "provides", at)
        if ref and targets:
            linked.add(ref)
            linked.update(targets)
    return linked


_PURL = re.compile(r"pkg:/*[A-Za-z.+-][A-Za-z0-9.+-]*/+[^/@?#\s][^@?#\s]*(?:[@?#]\S*)?\Z")
"""A Package URL as the spec shapes it: ``pkg:``, a type, a name (namespaces before it),
then a version, qualifiers or subpath (cheaper than parsing each one, and linear)."""


def _cdx_identified(r: _Reader, c: dict[str, Any], at: str) -> bool:
    purl = r.text(c, "purl", at)
    if purl and _PURL.match(purl.strip()):
        return True
    cpe = r.text(c, "cpe", at)
    if cpe and cpe.strip().lower().startswith("cpe:"):
        return True
    if c.get("swid") is not None:
        swid = r.obj(c["swid"], at + "swid")
        if _present(r.text(swid, "tagId", at + "swid.")):
            return True
    for key in ("omniborId", "swhid"):
        value = c.get(key)
        if isinstance(value, str):  # not the schema's list, but plain enough
            if _present(_text(value)):
                return True
        elif any(_present(v) for v in _texts(r, c, key, at)):
            return True
    return False


def _cdx_licensed(r: _Reader, c: dict[str, Any], at: str) -> bool:
    for w, choice in r.objects(c, "licenses", at):
        if _present(r.text(choice, "expression", w + ".")):
            return True
        if choice.get("license") is not None:
            lic = r.obj(choice["license"], w + ".license")
            if _present(r.text(lic, "id", w + ".license.")) or _present(
                r.text(lic, "name", w + ".license.")
            ):
                return True
    return False


# -- CycloneDX XML -------------------------------------------------------------------

_CDX_NAMESPACE = re.compile(r"\{http://cyclonedx\.org/schema/bom/(1\.\d+)\}bom")


def _cyclonedx_xml(data: bytes, display: str) -> dict[str, Any]:
    """CycloneDX XML, parsed by defusedxml (no DTD, no entities, no external
    references), as the JSON shape of the fields this check reads.

    Not through :mod:`depchain.diff`'s reader: cyclonedx-python-lib's round trip gives a
    document without a timestamp the time of reading, and every component an entry in
    ``dependencies``, which would pass two of the elements checked here."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]

    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise InputFileError(display, f"invalid XML (line {line}, column {column + 1})") from None
    except ValueError as exc:  # defusedxml's refusals (DTDForbidden...), a bad encoding
        if type(exc).__module__.startswith("defusedxml"):
            raise InputFileError(
                display, "XML with a DTD, entities or external references (refused)"
            ) from None
        raise InputFileError(display, f"invalid XML ({type(exc).__name__})") from None
    except (RecursionError, MemoryError):
        raise InputFileError(display, "invalid XML: nested too deeply") from None
    match = _CDX_NAMESPACE.fullmatch(str(root.tag))
    if match is None:
        raise InputFileError(
            display, "XML, but not a CycloneDX document (only CycloneDX XML is read)"
        )
    return _XmlBom(match.group(1), display).bom(root)


class _XmlBom:
    """The parts of a CycloneDX XML document this check reads, as its JSON would say
    them (values are read as they stand; :class:`depchain.diff._Reader` bounds them)."""

    def __init__(self, version: str, display: str) -> None:
        self.version = version
        self.ns = f"{{http://cyclonedx.org/schema/bom/{version}}}"
        self.display = display

    def _all(self, parent: Any, path: str) -> list[Any]:
        found: list[Any] = parent.findall("/".join(self.ns + p for p in path.split("/")))
        return found

    def _one(self, parent: Any, name: str) -> Any:
        return parent.find(self.ns + name)

    def _text(self, parent: Any, name: str) -> str | None:
        child = self._one(parent, name)
        if child is None:
            return None
        return (child.text or "").strip()

    def _party(self, parent: Any, name: str) -> dict[str, Any] | None:
        node = self._one(parent, name)
        return None if node is None else {"name": self._text(node, "name")}

    def bom(self, root: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": self.version}
        metadata = self._one(root, "metadata")
        if metadata is not None:
            out["metadata"] = self.metadata(metadata)
        components = self._one(root, "components")
        if components is not None:
            out["components"] = [self.component(c, 1) for c in self._all(components, "component")]
        services = self._one(root, "services")
        if services is not None:
            out["services"] = [{} for _ in self._all(services, "service")]
        dependencies = self._one(root, "dependencies")
        if dependencies is not None:
            out["dependencies"] = self.dependencies(dependencies)
        return out

    def metadata(self, node: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        stamp = self._text(node, "timestamp")
        if stamp is not None:
            out["timestamp"] = stamp
        out["authors"] = [
            {"name": self._text(a, "name"), "email": self._text(a, "email")}
            for a in self._all(node, "authors/author")
        ]
        maker = self._party(node, "manufacturer")
        if maker is not None:
            out["manufacturer"] = maker
        tools = self._one(node, "tools")
        if tools is not None:
            legacy = [
                {"name": self._text(t, "name"), "version": self._text(t, "version")}
                for t in self._all(tools, "tool")
            ]
            modern = [
                {"name": self._text(t, "name"), "version": self._text(t, "version")}
                for t in self._all(tools, "components/component")
                + self._all(tools, "services/service")
            ]
            out["tools"] = legacy if legacy else {"components": modern}
        out["lifecycles"] = [
            {"phase": self._text(p, "phase"), "name": self._text(p, "name")}
            for p in self._all(node, "lifecycles/lifecycle")
        ]
        subject = self._one(node, "component")
        if subject is not None:
            out["component"] = self.component(subject, 1)
        return out

    def component(self, node: Any, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if node.get("bom-ref") is not None:
            out["bom-ref"] = node.get("bom-ref")
        for key in ("name", "version", "purl", "cpe"):
            value = self._text(node, key)
            if value is not None:
                out[key] = value
        for key in ("supplier", "manufacturer"):
            party = self._party(node, key)
            if party is not None:
                out[key] = party
        swid = self._one(node, "swid")
        if swid is not None:
            out["swid"] = {"tagId": swid.get("tagId")}
        for key in ("omniborId", "swhid"):
            values = [(n.text or "").strip() for n in self._all(node, key)]
            if values:
                out[key] = values
        out["hashes"] = [
            {"alg": h.get("alg"), "content": (h.text or "").strip()}
            for h in self._all(node, "hashes/hash")
        ]
        licenses: list[dict[str, Any]] = []
        holder = self._one(node, "licenses")
        if holder is not None:
            for choice in holder:
                if choice.tag == self.ns + "expression":
                    licenses.append({"expression": (choice.text or "").strip()})
                elif choice.tag == self.ns + "license":
                    licenses.append(
                        {
                            "license": {
                                "id": self._text(choice, "id"),
                                "name": self._text(choice, "name"),
                            }
                        }
                    )
        out["licenses"] = licenses
        nested = self._all(node, "components/component")
        if nested:
            if depth >= MAX_NESTING:
                raise InputFileError(self.display, f"components nest more than {MAX_NESTING} deep")
            out["components"] = [self.component(n, depth + 1) for n in nested]
        return out

    def dependencies(self, node: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        stack = [(d, 1) for d in self._all(node, "dependency")]
        while stack:
            dep, depth = stack.pop()
            inner = self._all(dep, "dependency")
            provides = self._all(dep, "provides")
            out.append(
                {
                    "ref": dep.get("ref"),
                    "dependsOn": [d.get("ref") or "" for d in inner],
                    "provides": [p.get("ref") or "" for p in provides],
                }
            )
            if depth < MAX_NESTING:
                stack.extend((d, depth + 1) for d in inner if len(d))
        return out


# -- SPDX 2 --------------------------------------------------------------------------

_SPDX_GRAPH = frozenset(
    {
        "DESCRIBES",
        "DESCRIBED_BY",
        "CONTAINS",
        "CONTAINED_BY",
        "DEPENDS_ON",
        "DEPENDENCY_OF",
        "BUILD_DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
        "TEST_DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF",
        "STATIC_LINK",
        "DYNAMIC_LINK",
        "HAS_PREREQUISITE",
        "PREREQUISITE_FOR",
        "OPTIONAL_COMPONENT_OF",
        "PACKAGE_OF",
    }
)
"""Relationships that say one element is included in, or depended upon by, another."""
_SPDX_ID_CATEGORIES = frozenset({"PACKAGE-MANAGER", "PERSISTENT-ID"})
_SPDX_ID_TYPES = frozenset({"purl", "cpe22type", "cpe23type", "swid", "gitoid", "swh"})


def _from_spdx(data: dict[str, Any], display: str) -> _Read:
    r = _Reader(display)
    creation = r.obj(data.get("creationInfo") or {}, "creationInfo")
    people: set[str] = set()
    tools: set[str] = set()
    for creator in _texts(r, creation, "creators", "creationInfo."):
        kind, colon, _ = creator.partition(":")
        who = _spdx_party(creator) if colon else None
        if who is None:
            continue
        if kind.strip().lower() == "tool":
            tools.add(who)
        elif kind.strip().lower() in {"person", "organization"}:
            people.add(f"{kind.strip()}: {who}")
    contexts: set[str] = set()
    for said in (r.text(creation, "comment", "creationInfo."), r.text(data, "comment", "")):
        if said is not None and _present(said):
            contexts.add(said)
    doc_id = r.text(data, "SPDXID", "") or "SPDXRef-DOCUMENT"
    described = set(_texts(r, data, "documentDescribes", ""))
    linked: set[str] = set()
    for where, rel in r.objects(data, "relationships", ""):
        at = where + "."
        kind = (r.text(rel, "relationshipType", at) or "").strip().upper()
        if kind not in _SPDX_GRAPH:
            continue
        a = r.text(rel, "spdxElementId", at) or ""
        b = r.text(rel, "relatedSpdxElement", at) or ""
        if kind == "DESCRIBES" and a == doc_id:
            described.add(b)
        elif kind == "DESCRIBED_BY" and b == doc_id:
            described.add(a)
        elif b == "NONE":  # a stated leaf: X DEPENDS_ON NONE
            linked.add(a)
        elif b != "NOASSERTION" and a != "NOASSERTION":  # NOASSERTION states nothing
            linked.update((a, b))
    linked |= described
    components: list[_Component] = []
    names: dict[str, str] = {}
    for where, p in r.objects(data, "packages", ""):
        at = where + "."
        ref = r.text(p, "SPDXID", at, required=True) or ""
        name = r.text(p, "name", at) or ""
        names[ref] = name or ref
        version = r.text(p, "versionInfo", at)
        comp = _Component(ref=ref, name=name, version=version, where=where)
        if name.strip():
            comp.has.add("name")
        if _present(version) and (version or "").strip().upper() != "NONE":
            comp.has.add("version")
        if _spdx_party(r.text(p, "supplier", at)):
            comp.has.add("supplier")
        if _spdx_identified(r, p, at):
            comp.has.add("identifier")
        if ref in linked:
            comp.has.add("dependency")
        if any(
            _present(r.text(h, "checksumValue", w + ".")) for w, h in r.objects(p, "checksums", at)
        ):
            comp.has.add("hash")
        if _present(r.text(p, "licenseConcluded", at)) or _present(
            r.text(p, "licenseDeclared", at)
        ):
            comp.has.add("license")
        components.append(comp)
    notes = []
    if not described:
        notes.append("the document does not say which package it describes (DESCRIBES)")
    return _Read(
        format="spdx-json",
        spec_version=r.text(data, "spdxVersion", "") or "SPDX-2",
        components=components,
        people=tuple(sorted(people)),
        tools=tuple(sorted(tools)),
        timestamp=r.text(creation, "created", "creationInfo."),
        contexts=tuple(sorted(contexts)),
        describes=tuple(sorted(names.get(d, d) for d in described)),
        notes=notes,
    )


def _spdx_identified(r: _Reader, p: dict[str, Any], at: str) -> bool:
    for w, ext in r.objects(p, "externalRefs", at):
        if not _present(r.text(ext, "referenceLocator", w + ".")):
            continue
        category = (r.text(ext, "referenceCategory", w + ".") or "").upper().replace("_", "-")
        kind = (r.text(ext, "referenceType", w + ".") or "").lower()
        if category in _SPDX_ID_CATEGORIES or kind in _SPDX_ID_TYPES:
            return True
    return False


# -- evaluation ----------------------------------------------------------------------

_ISO_8601 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,12})?)?"
    r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


def _valid_timestamp(text: str | None) -> bool:
    """An ISO 8601 date and time (a zone or none; a fraction of any precision)."""
    import datetime

    m = _ISO_8601.fullmatch((text or "").strip())
    if m is None:
        return False
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    second = int(m.group(6) or 0)
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    return second <= 60  # a leap second is a time


def _evaluate(read: _Read, display: str, cisa_2025: bool) -> Report:
    standards = (NTIA, CISA_2025) if cisa_2025 else (NTIA,)
    required = [e for e in ELEMENTS if e.standard in standards]
    valid_stamp = _valid_timestamp(read.timestamp)
    authors = read.people if cisa_2025 else read.people + tuple(f"tool: {t}" for t in read.tools)
    document_found: dict[str, tuple[str, ...]] = {
        "author": tuple(sorted(authors)),
        "timestamp": (read.timestamp,) if read.timestamp and valid_stamp else (),
        "tool": read.tools,
        "context": read.contexts,
    }
    n = len(read.components)
    per_component = max(n, 1)  # a document listing nothing is still checked once
    results: list[ElementResult] = []
    for element in required:
        if element.level == "document":
            held = bool(document_found[element.id])
            results.append(
                ElementResult(
                    element, per_component if held else 0, per_component, document_found[element.id]
                )
            )
        else:
            satisfied = sum(1 for c in read.components if element.id in c.has)
            results.append(ElementResult(element, satisfied, per_component))
    component_required = [e.id for e in required if e.level == "component"]
    gaps = []
    for c in read.components:
        missing = tuple(e for e in component_required if e not in c.has)
        if missing:
            gaps.append(
                ComponentGap(
                    ref=c.ref, name=c.name, version=c.version, where=c.where, missing=missing
                )
            )
    gaps.sort(key=lambda g: (g.name.lower(), g.version or "", g.ref, g.where))
    notes = list(read.notes)
    if n == 0:
        notes.append("the document lists no component")
    if read.timestamp and not valid_stamp:
        notes.append(f"the timestamp {_text(read.timestamp)[:60]!r} is not ISO 8601")
    if read.services:
        notes.append(f"{read.services} service(s) not checked: services are not components")
    satisfied = sum(r.satisfied for r in results)
    total = sum(r.total for r in results)
    return Report(
        path=display,
        format=read.format,
        spec_version=read.spec_version,
        standards=standards,
        components=n,
        elements=tuple(results),
        gaps=tuple(gaps),
        document=DocumentFacts(
            authors=tuple(sorted(authors)),
            tools=read.tools,
            timestamp=read.timestamp,
            timestamp_valid=valid_stamp,
            contexts=read.contexts,
            describes=read.describes,
            services=read.services,
        ),
        notes=tuple(notes),
        satisfied=satisfied,
        total=total,
    )
