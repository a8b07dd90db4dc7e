"""The JSON report, schema ``depchain-report/1`` (``depchain/schemas``)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from depchain import __version__
from depchain.graph import DependencyGraph
from depchain.model import Component, Dependency, DependencyKind, Evidence, Service, Source
from depchain.scanner import ScanResult
from depchain.timestamps import iso, now
from depchain.trust.facts import ownership, provenance
from depchain.trust.surface import trust_surface

SCHEMA_ID = "depchain-report/1"


def _evidence(items: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [
        {"path": e.path, "line": e.line, "resolver": e.resolver, "role": e.role.value}
        for e in items
    ]


def _source(s: Source) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": s.kind.value, "url": s.url}
    if s.ref is not None:
        out["ref"] = s.ref
    if s.commit is not None:
        out["commit"] = s.commit
    if s.editable:
        out["editable"] = True
    if s.subdirectory is not None:
        out["subdirectory"] = s.subdirectory
    return out


def _properties(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Properties as an object; a name given several values keeps them all, joined."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: ", ".join(sorted(set(values))) for name, values in grouped.items()}


def _license(c: Component) -> dict[str, Any] | None:
    if c.license is None:
        return None
    out: dict[str, Any] = {
        "expression": c.license.expression,
        "ids": list(c.license.ids),
        "names": list(c.license.names),
        "source": c.license.source,
    }
    if c.license.unknown is not None:
        out["unknown"] = c.license.unknown
    return out


def _supplier(c: Component) -> dict[str, Any] | None:
    from depchain.supplier import supplier_of

    found = supplier_of(c)
    if found is None:
        return None
    out: dict[str, Any] = {"name": found.name, "kind": found.kind, "source": found.source}
    if found.email:
        out["email"] = found.email
    if found.url:
        out["url"] = found.url
    return out


def component_dict(c: Component, graph: DependencyGraph | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if graph is not None:
        extra = {"ownership": ownership(c), "provenance": provenance(c, graph)}
    described: dict[str, Any] = {
        "license": _license(c),
        "supplier": _supplier(c),
        "authors": [
            {k: v for k, v in (("name", a.name), ("email", a.email), ("role", a.role)) if v}
            for a in c.authors
        ],
        "description": c.description,
        "links": [
            {k: v for k, v in (("kind", link.kind), ("url", link.url), ("label", link.label)) if v}
            for link in c.links
        ],
    }
    return {
        "id": c.id,
        "purl": c.purl,
        "name": c.name,
        "version": c.version,
        "type": c.type.value,
        "ecosystem": c.ecosystem,
        "hashes": [{"algorithm": h.algorithm, "value": h.value} for h in c.hashes],
        "sources": [_source(s) for s in c.sources],
        "properties": _properties(c.properties),
        "evidence": _evidence(c.evidence),
        **described,
        **extra,
    }


def dependency_dict(d: Dependency) -> dict[str, Any]:
    return {
        "from": d.source,
        "to": d.target,
        "kind": d.kind.value,
        "scope": d.scope.value,
        "mechanism": d.mechanism,
        "specifier": d.specifier,
        "marker": d.marker,
        "extras": list(d.extras),
        "groups": list(d.groups),
        "indexes": [
            {"role": role, "url": url}
            for role, url in dict.fromkeys((i.role, i.url) for i in d.indexes)
        ],
        "hashes": [{"algorithm": h.algorithm, "value": h.value} for h in d.hashes],
        "evidence": _evidence(d.evidence),
    }


def service_dict(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "endpoints": list(s.endpoints),
        "image": s.image,
        "x_trust_boundary": s.trust_boundary,
        "properties": _properties(s.properties),
        "evidence": _evidence(s.evidence),
    }


def build(result: ScanResult) -> dict[str, Any]:
    graph = result.graph
    deps = graph.dependencies()
    kinds = Counter(d.kind.value for d in deps)
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "depchain", "version": __version__},
        "generated": iso(now()),
        "target": result.target.as_posix(),
        "subject": result.subject,
        "inputs": [
            {
                "path": i.path,
                "resolver": i.resolver,
                "project": i.project,
                "role": i.role.value,
                "role_reason": i.reason,
                "read": i.read,
            }
            for i in sorted(result.inputs)
        ],
        "projects": [{"id": p, "role": r.value} for p, r in sorted(result.projects.items())],
        "summary": {
            "components": len(graph.components()),
            "services": len(graph.services()),
            "dependencies": {k.value: kinds.get(k.value, 0) for k in DependencyKind},
            "findings": len(result.findings),
            "errors": len(result.errors),
        },
        "components": [component_dict(c, graph) for c in graph.components()],
        "dependencies": [dependency_dict(d) for d in deps],
        "services": [service_dict(s) for s in graph.services()],
        "findings": [
            {
                "id": f.id,
                "severity": f.severity,
                "message": f.message,
                "component": f.component,
                "evidence": _evidence(f.evidence),
            }
            for f in result.findings
        ],
        "vulnerabilities": vulnerabilities(result),
        "audit": audit_summary(result),
        "errors": [{"path": e.path, "message": e.message} for e in result.errors],
        "notes": [{"path": p, "message": m} for p, m in sorted(set(result.notes))],
        "trust_surface": trust_surface(graph, result.policy, result.ledger),
    }


def render(result: ScanResult) -> str:
    """The report as JSON: each top-level key on its own line, and each entry of a
    top-level list (a component, an edge, a finding) on a line of its own, so that the
    diff of two reports reads entry by entry. Entries are written by json's C encoder;
    indenting every level would take the pure-Python one, five times slower on the
    report of an environment."""
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    lines = ["{"]
    items = list(build(result).items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value:
            lines.append(f"  {compact(key)}: [")
            lines.extend(
                f"    {compact(entry)}{',' if j < len(value) - 1 else ''}"
                for j, entry in enumerate(value)
            )
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {compact(key)}: {compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def vulnerabilities(result: ScanResult) -> list[dict[str, Any]]:
    """Every advisory of every component, most severe first; those the policy ignores
    carry the ignore's reason and expiry."""
    if result.audit is None:
        return []
    out = []
    for component, advisories in result.audit.found.items():
        for a in advisories:
            ignore = result.ignored.get((component, a.id))
            out.append(
                {
                    "id": a.id,
                    "aliases": list(a.aliases),
                    "component": component,
                    "summary": a.summary,
                    "severity": a.severity.value,
                    "cvss": [{"vector": c.vector, "score": c.score} for c in a.cvss],
                    "fixed_in": list(a.fixed_in),
                    "source": a.source,
                    "published": a.published,
                    "references": list(a.references),
                    "ignored": (
                        {"reason": ignore.reason, "expires": ignore.expires.isoformat()}
                        if ignore
                        else None
                    ),
                }
            )
    from depchain.vulns.audit import SEVERITY_ORDER
    from depchain.vulns.interface import Severity

    return sorted(
        out, key=lambda v: (-SEVERITY_ORDER[Severity(v["severity"])], v["id"], v["component"])
    )


def audit_summary(result: ScanResult) -> dict[str, Any] | None:
    """Which advisory data was used and how old it is, what was audited, and every
    component that was not, with the reason."""
    report = result.audit
    if report is None:
        return None
    return {
        "complete": report.complete,
        "sources": [
            {
                "name": s.name,
                "location": s.location,
                "updated": s.updated,
                "records": s.records,
                "ecosystems": list(s.ecosystems),
            }
            for s in report.sources
        ],
        "audited": len(report.audited),
        "not_audited": [{"component": c, "reason": r} for c, r in report.not_audited.items()],
        "errors": list(report.errors),
    }
