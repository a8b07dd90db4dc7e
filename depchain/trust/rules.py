"""One small function per gap that files alone can show. Each looks at the graph and
yields findings, with the evidence (file and line) of the entry that brought the
dependency in. Gaps that need package-index data are listed in the catalogue and
found by enrichment."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from packaging.utils import canonicalize_name

from depchain.graph import DependencyGraph
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Finding,
    Role,
    Service,
    SourceKind,
)
from depchain.trust.catalogue import BY_ID, Severity

Rule = Callable[[DependencyGraph], Iterator[Finding]]

_DECLARED = {
    "requirement",
    "dependency-group",
    "extra",
    "build-system",
    "build-backend",
    "setup-requires",
    "tests-require",
    "tox",
    "pre-commit-dependency",
    "pip",
}
"""Mechanisms of requirements a person wrote (not what a lock or an install recorded)."""


def _finding(
    gap: str,
    component: str,
    message: str,
    dep: Dependency | None,
    evidence: tuple[Evidence, ...] = (),
    severity: Severity | None = None,
) -> Finding:
    found = evidence or (dep.evidence if dep is not None else ())
    return Finding(gap, (severity or BY_ID[gap].severity).value, message, component, found)


def unpinned(graph: DependencyGraph) -> Iterator[Finding]:
    """DC001: a written requirement on a Python distribution no pin or lock fixes.

    The graph joins a requirement to the version a lock pins when that version is the
    only one; a lock that forks by environment marker (uv.lock, pylock.toml and
    poetry.lock lock ``numpy`` at one version for Python 3.9 and another for 3.10+)
    pins it too: a requirement is pinned when its own folder holds a pinned version of
    it, or, for a ``pyproject.toml``, a folder above it (the lock of its workspace)."""
    candidates = []
    for dep in graph.dependencies():
        node = graph.node(dep.target)
        if (
            dep.mechanism in _DECLARED
            and isinstance(node, Component)
            and node.ecosystem == "pypi"
            and node.version is None
            and not node.sources
        ):
            candidates.append((dep, node))
    if not candidates:
        return
    pinned = _pinned_folders(graph, {canonicalize_name(node.name) for _, node in candidates})
    for dep, node in candidates:
        if not _pinned_near(pinned, canonicalize_name(node.name), dep):
            case = "build" if dep.kind is DependencyKind.BUILD else None
            severity = BY_ID["DC001"].severity_for(case)
            yield _finding(
                "DC001",
                node.id,
                f"{node.name} {dep.specifier or '(any version)'} "
                "is not pinned by any lockfile or pin in the scan",
                dep,
                severity=severity,
            )


def _pinned_folders(
    graph: DependencyGraph, names: set[str]
) -> dict[tuple[str, bool], set[PurePosixPath]]:
    """The folders where each Python distribution of ``names`` is pinned to a version,
    apart for runtime files and for tooling (a pre-commit hook's or the docs' pin says
    nothing of what the project ships)."""
    folders: dict[tuple[str, bool], set[PurePosixPath]] = {}
    parents: dict[str, PurePosixPath] = {}
    for component in graph.components():
        if component.ecosystem != "pypi" or component.version is None:
            continue
        name = canonicalize_name(component.name)
        if name not in names:
            continue
        for e in component.evidence:
            parent = parents.get(e.path)
            if parent is None:
                parent = parents[e.path] = PurePosixPath(e.path).parent
            folders.setdefault((name, e.role is Role.RUNTIME), set()).add(parent)
    return folders


def _pinned_near(
    pinned: dict[tuple[str, bool], set[PurePosixPath]], name: str, dep: Dependency
) -> bool:
    for evidence in dep.evidence:
        folders = pinned.get((name, evidence.role is Role.RUNTIME), set())
        path = PurePosixPath(evidence.path)
        if path.parent in folders:
            return True
        if path.name == "pyproject.toml" and folders & set(path.parent.parents):
            return True
    return False


def no_hash(graph: DependencyGraph) -> Iterator[Finding]:
    """DC002: a pinned requirements-file entry without a hash, where no lock adds one."""
    for dep in graph.dependencies():
        node = graph.node(dep.target)
        if (
            dep.mechanism == "requirement"
            and dep.evidence
            and dep.evidence[0].resolver == "requirements"
            and isinstance(node, Component)
            and node.version is not None
            and not node.hashes
            and not dep.hashes
        ):
            yield _finding(
                "DC002", node.id, f"{node.name}=={node.version} is installed without a hash", dep
            )


def extra_index(
    graph: DependencyGraph, trusted_indexes: frozenset[str] = frozenset()
) -> Iterator[Finding]:
    """DC003: requirements that may come from an extra index besides the default one;
    one finding per index and file, not per requirement. An index the policy trusts
    (compared in normal form, see :func:`~depchain.trust.policy.index_key`) is not one."""
    from depchain.trust.policy import index_key

    seen: dict[tuple[str, str], list[tuple[Dependency, Evidence]]] = {}
    for dep in graph.dependencies():
        for index in dep.indexes:
            if index.role in {"extra", "find-links"} and dep.evidence:
                if trusted_indexes and index_key(index.url) in trusted_indexes:
                    continue
                where = index.declared or dep.evidence[0]
                seen.setdefault((index.url, where.path), []).append((dep, where))
    for (url, path), uses in sorted(seen.items()):
        first, where = min(uses, key=lambda u: (u[1].line or 0, u[0].target))
        yield _finding(
            "DC003",
            first.source,
            f"{len(uses)} requirement(s) from {path} may be "
            f"served by {url} as well as by the default index",
            first,
            evidence=(where,),
        )


_FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


_ARCHIVE_REF = re.compile(
    r"/(?:-/)?archive/(?:refs/heads/)?(?P<ref>[^/]+?)(?:/[^/]*)?\.(?:zip|tar\.gz|tgz|tar\.bz2|tar\.xz)$"
    r"|codeload\.github\.com/[^/]+/[^/]+/(?:zip|tar\.gz|legacy\.zip|legacy\.tar\.gz)/"
    r"(?:refs/heads/)?(?P<ref2>[^/?#]+)$"
)
_VERSION_LIKE = re.compile(r"^v?\d+(?:[._-]\w+)*$|^[0-9a-f]{40}$")


def branch_archive(url: str) -> str | None:
    """The branch a forge's archive URL names (``.../archive/main.zip``,
    ``.../archive/refs/heads/master.tar.gz``, GitLab's ``/-/archive/main/x.tar.gz``,
    ``codeload.github.com/o/r/zip/main``): its bytes change with every push. A tag
    (``refs/tags/``, ``v1.2.3``) or a full commit is no branch."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    if "/refs/tags/" in path:
        return None
    m = _ARCHIVE_REF.search(path)
    if m is None:
        return None
    ref = m.group("ref") or m.group("ref2")
    if "/refs/heads/" in path:
        return ref
    return None if _VERSION_LIKE.match(ref) else ref


def mutable_reference(graph: DependencyGraph) -> Iterator[Finding]:
    """DC004: a VCS source without an immutable commit, or an archive of a branch."""
    for component in graph.components():
        for source in component.sources:
            moving = (
                source.kind is SourceKind.VCS
                and not source.commit
                and component.ecosystem in {"pypi", "generic"}
            )
            branch = (
                branch_archive(source.url)
                if source.kind is SourceKind.URL and source.url is not None
                else None
            )
            if moving or branch:
                dep = _first_edge(graph, component.id)
                what = f"branch {branch}" if branch else source.ref or "its default branch"
                yield _finding(
                    "DC004",
                    component.id,
                    f"{component.name} comes from {source.url} at {what}, which can move",
                    dep,
                    evidence=dep.evidence if dep else component.evidence,
                )
                break


def local_path(graph: DependencyGraph) -> Iterator[Finding]:
    """DC005: a dependency installed from a folder (the project's own excepted)."""
    for dep in graph.dependencies():
        node = graph.node(dep.target)
        if not isinstance(node, Component) or node.type.value == "application":
            continue
        if any(
            s.kind is SourceKind.PATH and s.url not in {".", "workspace"} for s in node.sources
        ) and dep.mechanism in _DECLARED | {"lock"}:
            yield _finding(
                "DC005",
                node.id,
                f"{node.name} is installed from a local path"
                + (" (editable)" if any(s.editable for s in node.sources) else ""),
                dep,
            )


def action_ref(graph: DependencyGraph) -> Iterator[Finding]:
    """DC009: a CI action (or reusable workflow) used by tag or branch."""
    for component in graph.components():
        ref_type = dict(component.properties).get("depchain:ref-type")
        if component.ecosystem != "githubactions" or ref_type not in {"tag", "branch"}:
            continue
        severity = BY_ID["DC009"].severity_for("branch" if ref_type == "branch" else None)
        for dep in graph.dependents(component.id):
            yield _finding(
                "DC009",
                component.id,
                f"{component.name}@{component.version} is used by {ref_type}, not by commit SHA",
                dep,
                severity=severity,
            )


def image_digest(graph: DependencyGraph) -> Iterator[Finding]:
    """DC010: a container image referenced without a digest."""
    for component in graph.components():
        if component.ecosystem != "docker":
            continue
        props = dict(component.properties)
        if props.get("depchain:image-digest") or "digest=" in component.id:
            continue
        if props.get("depchain:image-source") == "local-build":
            continue
        # a tag left as a variable (``postgres:${POSTGRES_IMAGE_TAG}``) is no ``latest``
        written = props.get("depchain:image-unresolved")
        shown = written or f"{component.name}:{component.version or 'latest'}"
        for dep in graph.dependents(component.id):
            yield _finding("DC010", component.id, f"image {shown} is not pinned by digest", dep)


def unowned_library(graph: DependencyGraph) -> Iterator[Finding]:
    """DC011: a system library no OS package owns."""
    for component in graph.components():
        owner = dict(component.properties).get("depchain:owner", "")
        if owner.startswith("none"):
            for dep in graph.dependents(component.id):
                yield _finding(
                    "DC011",
                    component.id,
                    f"{component.name} "
                    f"({component.evidence[0].path if component.evidence else '?'})"
                    " is owned by no OS package",
                    dep,
                )


def vendored_without_version(graph: DependencyGraph) -> Iterator[Finding]:
    """DC012: vendored or submodule code with no version or commit on record."""
    for dep in graph.dependencies(DependencyKind.STATIC):
        node = graph.node(dep.target)
        if dep.mechanism not in {"vendored", "git-submodule"} or not isinstance(node, Component):
            continue
        if node.version is None:
            yield _finding(
                "DC012",
                node.id,
                f"{node.name} is carried in the tree with no recorded version or commit",
                dep,
            )


_NATIVE = frozenset({"bundled", "version-string", "pep770", "elf"})
"""Mechanisms that carry (or, for ``elf``, load) a native library into the process."""


def several_versions(graph: DependencyGraph) -> Iterator[Finding]:
    """DC026: one well-known native library at several versions in one environment
    (``depchain:upstream``, see :mod:`depchain.native.identify`): a finding per version,
    on its first component (libcrypto and libssl of one OpenSSL are one copy), with the
    evidence of every file that carries it, naming the other versions and the
    distributions that carry them. TLS libraries are one family (OpenSSL beside
    BoringSSL is two TLS stacks); a copy whose release is not known counts only in a
    family (BoringSSL has no releases)."""
    from depchain.native.libraries import BY_KEY

    groups: dict[str, dict[tuple[str, str], list[tuple[Component, list[Dependency]]]]] = {}
    for component in graph.components():
        named = next((v for k, v in component.properties if k == "depchain:upstream"), None)
        if named is None or not named.startswith("pkg:generic/"):
            continue
        key, _, version = named[len("pkg:generic/") :].partition("@")
        lib = BY_KEY.get(key.replace("%2B", "+"))
        if lib is None or (not version and lib.family is None):
            continue
        incoming = [d for d in graph.dependents(component.id) if d.mechanism in _NATIVE]
        if incoming:
            copies = groups.setdefault(lib.family or lib.key, {})
            copies.setdefault((lib.name, version), []).append((component, incoming))
    for group, copies in sorted(groups.items()):
        if len(copies) < 2:
            continue
        said = {}
        for copy, found in copies.items():
            name, version = copy
            where = ", ".join(sorted({d for c, _ in found for d in _carriers(graph, c.id)}))
            said[copy] = f"{name} {version or '(version not recorded)'} ({where or '?'})"
        what = "TLS libraries" if group == "tls" else "versions of " + next(iter(copies))[0]
        severity = BY_ID["DC026"].severity_for("tls" if group == "tls" else None)
        for copy, found in sorted(copies.items()):
            others = [said[other] for other in sorted(copies) if other != copy]
            shown = "; ".join(others[:8]) + (f"; {len(others) - 8} more" if len(others) > 8 else "")
            first = min(found, key=lambda f: f[0].id)
            evidence = tuple(sorted({e for _, deps in found for d in deps for e in d.evidence}))
            yield _finding(
                "DC026",
                first[0].id,
                f"{said[copy]} is one of {len(copies)} {what} in this environment: {shown}",
                first[1][0],
                evidence=evidence[:16],
                severity=severity,
            )


def _carriers(graph: DependencyGraph, node_id: str, depth: int = 4) -> list[str]:
    """The Python distributions that carry (or load) a native component: up its
    ``bundled``, ``version-string``, ``pep770`` and ``elf`` edges, a few steps."""
    found: set[str] = set()
    frontier, seen = [node_id], {node_id}
    for _ in range(depth):
        upper = []
        for current in frontier:
            for dep in graph.dependents(current):
                if dep.mechanism not in _NATIVE or dep.source in seen:
                    continue
                seen.add(dep.source)
                node = graph.node(dep.source)
                if isinstance(node, Component) and node.ecosystem == "pypi":
                    found.add(f"{node.name} {node.version}" if node.version else node.name)
                else:
                    upper.append(dep.source)
        frontier = upper
    return sorted(found)


def insecure_service(graph: DependencyGraph) -> Iterator[Finding]:
    """DC019: a service across the trust boundary without TLS or authentication."""
    for service in graph.services():
        if service.trust_boundary is not True:
            continue
        props = _props(service)
        missing = []
        if "false" in props.get("depchain:tls", set()):
            missing.append("TLS")
        if props.get("depchain:authentication") == {"none"} or (
            props.get("depchain:credentials") == {"absent"}
            and "depchain:authentication" not in props
        ):
            missing.append("authentication")
        if not missing:
            continue
        dep = next(iter(graph.dependents(service.id)), None)
        case = None if "TLS" in missing else "authentication"
        severity = BY_ID["DC019"].severity_for(case)
        yield _finding(
            "DC019",
            service.id,
            f"{service.name} is reached across the trust boundary without {' or '.join(missing)}",
            dep,
            evidence=dep.evidence if dep else service.evidence,
            severity=severity,
        )


def _props(service: Service) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key, value in service.properties:
        out.setdefault(key, set()).add(value)
    return out


def _first_edge(graph: DependencyGraph, node_id: str) -> Dependency | None:
    incoming = graph.dependents(node_id)
    return incoming[0] if incoming else None


RULES: tuple[Rule, ...] = (
    unpinned,
    no_hash,
    extra_index,
    mutable_reference,
    local_path,
    action_ref,
    image_digest,
    unowned_library,
    vendored_without_version,
    insecure_service,
    several_versions,
)


def find_gaps(
    graph: DependencyGraph, trusted_indexes: frozenset[str] = frozenset()
) -> list[Finding]:
    """Every gap the rules find, de-duplicated, those without evidence dropped.
    ``trusted_indexes``: the policy's, in normal form (DC003 is not said of them)."""
    found = {f for f in extra_index(graph, trusted_indexes) if f.evidence}
    found |= {f for rule in RULES if rule is not extra_index for f in rule(graph) if f.evidence}
    return sorted(found, key=lambda f: (-Severity(f.severity).rank, f.id, f.component, f.evidence))
