"""Ownership and provenance of Python distributions, from PyPI.

For each (name, version) :func:`enrich` asks, at most once per project and per file:

- the project JSON API (``/pypi/<name>/json``): the ``ownership`` object
  (``organization`` and the ``roles`` of users), ``info.project_urls`` and
  ``info.home_page`` (the declared source repository), and the release's files with
  their kind, upload time, yanked flag and reason, and sha256. Where an index serves no
  ``releases`` in the project JSON, ``/pypi/<name>/<version>/json`` gives the files;
- the PEP 740 Integrity API (``/integrity/<name>/<version>/<filename>/provenance``) for
  every file of the release: the publisher of each attestation bundle (kind, repository,
  workflow, environment), read straight from the provenance JSON.

**The attestations' signatures are not verified here**: the publisher is what the
index says it checked at upload time. A verifier (pypi-attestations, sigstore) is
needed to check the bundles against the files.

Requests have timeouts, a bounded retry loop (exponential backoff on timeouts,
connection errors, 429 and 5xx; none on 404 or another 4xx; a malformed JSON answer is
retried too), and run on a bounded thread pool. Answers are kept in
:class:`~depchain.enrich.cache.Cache`; ``offline=True`` reads that cache only and never
opens a socket (nor imports requests). A failure affects only its component: it is
reported in :attr:`Enrichment.errors` and its ownership is ``unknown``.
"""

from __future__ import annotations

import json
import queue
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from depchain.enrich.cache import DEFAULT_TTL, Cache, CacheError, Entry
from depchain.enrich.index import IndexChoice, choose_index
from depchain.enrich.repos import declared_repository

if TYPE_CHECKING:
    from pathlib import Path

    import requests

    from depchain.model import Component

Timeout: TypeAlias = "float | tuple[float, float]"
Key: TypeAlias = "tuple[str, str | None]"

MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""The largest answer read (botocore's project JSON is about 4 MB)."""

INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json, application/json;q=0.9"


@dataclass(frozen=True, order=True)
class Publisher:
    """The trusted publisher named by one attestation bundle (not verified here)."""

    kind: str
    """``GitHub``, ``GitLab``, ``Google``, ``ActiveState``, ..."""
    repository: str | None = None
    """``owner/repo`` (GitHub) or ``group/project`` (GitLab)."""
    workflow: str | None = None
    environment: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind} {self.repository or '(no repository)'}"
        if self.workflow:
            text += f" ({self.workflow}"
            text += f", environment {self.environment})" if self.environment else ")"
        return text


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release, as the index lists it."""

    filename: str
    kind: str
    """``wheel``, ``sdist``, or the index's own packagetype (``bdist_egg``, ...)."""
    upload_time: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    sha256: str | None = None
    attestation: str = "unknown"
    """``present``, ``absent`` (the index answered 404) or ``unknown`` (not asked: offline
    with nothing cached, or the request failed)."""
    publishers: tuple[Publisher, ...] = ()


@dataclass(frozen=True)
class Enrichment:
    """What the index says about one (name, version). ``unknown`` is a value: it is
    never to be read as trusted."""

    name: str
    version: str | None
    index: str
    """The index asked (credentials redacted)."""
    ownership_source: str = "unknown"
    """``pypi-json`` (the JSON API's ``ownership``) or ``unknown``."""
    ownership_reason: str | None = None
    """Why the ownership is unknown, in one line."""
    organization: str | None = None
    roles: tuple[tuple[str, str], ...] = ()
    """(user, role) pairs, as the index lists them: ``("nateprewitt", "Owner")``."""
    project_known: bool = False
    """The index answered for the project (project_urls and source are meaningful)."""
    project_urls: tuple[tuple[str, str], ...] = ()
    source_repository: str | None = None
    """The declared source repository URL, as declared (see
    :func:`depchain.enrich.repos.declared_repository`)."""
    release_found: bool | None = None
    """True/False: the version is/is not on the index; None: not known (no version asked,
    or no answer)."""
    files: tuple[ReleaseFile, ...] = ()
    name_absent: bool = False
    """The index answered 404 for the project: nobody has registered the name there."""
    errors: tuple[str, ...] = ()
    """One line per failure (``pypi.org: /pypi/foo/json timed out after 3 tries``)."""
    fetched_at: float | None = None
    """When the oldest answer used was fetched (seconds since the epoch)."""

    @property
    def ownership_known(self) -> bool:
        return self.ownership_source != "unknown"

    @property
    def has_wheel(self) -> bool:
        return any(f.kind == "wheel" for f in self.files)

    @property
    def sdist_only(self) -> bool:
        """The release has files, an sdist among them, and no wheel."""
        return (
            bool(self.files) and not self.has_wheel and any(f.kind == "sdist" for f in self.files)
        )

    @property
    def yanked(self) -> bool:
        return bool(self.files) and any(f.yanked for f in self.files)

    @property
    def yanked_reason(self) -> str | None:
        return next((f.yanked_reason for f in self.files if f.yanked and f.yanked_reason), None)

    @property
    def publishers(self) -> tuple[Publisher, ...]:
        """The distinct publishers of the release's attestations."""
        return tuple(sorted({p for f in self.files for p in f.publishers}))

    def ownership_json(self) -> dict[str, Any]:
        """The report's ``ownership``: organization, roles as ``{user, role}``, source."""
        out: dict[str, Any] = {
            "organization": self.organization,
            "roles": [{"user": user, "role": role} for user, role in self.roles],
            "source": self.ownership_source,
        }
        if not self.ownership_known:
            out["reason"] = self.ownership_reason
        return out

    def provenance_json(self) -> dict[str, Any]:
        """What the index adds to the report's ``provenance``: index, artifacts with kind,
        sha256, yanked and attestation, and the attestation publishers or none."""
        states = {f.attestation for f in self.files}
        attestation = (
            "present" if "present" in states else "unknown" if "unknown" in states else "none"
        )
        return {
            "index": self.index,
            "release_found": self.release_found,
            "artifact_kinds": sorted({f.kind for f in self.files}),
            "sdist_only": self.sdist_only,
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason,
            "attestation": attestation if self.files else "unknown",
            "publishers": [_publisher_json(p) for p in self.publishers],
            "source_repository": self.source_repository,
            "files": [
                {
                    "filename": f.filename,
                    "kind": f.kind,
                    "sha256": f.sha256,
                    "upload_time": f.upload_time,
                    "yanked": f.yanked,
                    "attestation": f.attestation,
                    "publishers": [_publisher_json(p) for p in f.publishers],
                }
                for f in self.files
            ],
        }


def _publisher_json(p: Publisher) -> dict[str, str | None]:
    return {
        "kind": p.kind,
        "repository": p.repository,
        "workflow": p.workflow,
        "environment": p.environment,
    }


def packages_of(components: Iterable[Component]) -> list[tuple[str, str | None]]:
    """The (name, version) pairs worth asking the index about: Python distributions
    from a registry (not the scanned project, not VCS, URL or local-path sources)."""
    from depchain.model import ComponentType, SourceKind

    wanted = {
        (c.name, c.version)
        for c in components
        if c.ecosystem == "pypi"
        and c.type is not ComponentType.APPLICATION
        and all(s.kind is SourceKind.REGISTRY for s in c.sources)
    }
    return sorted(wanted, key=lambda k: (k[0], k[1] or ""))


def enrich(
    packages: Iterable[tuple[str, str | None]],
    *,
    index_url: str | None = None,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    timeout: Timeout = (3.05, 10),
    retries: int = 3,
    workers: int = 8,
    session: requests.Session | None = None,
    ttl: float = DEFAULT_TTL,
    backoff: float = 0.5,
) -> dict[Key, Enrichment]:
    """Ownership, release files and attestation publishers for each (name, version).

    ``index_url``: the index to ask (else pip's configuration, else PyPI; see
    :func:`~depchain.enrich.index.choose_index`); only pypi.org and test.pypi.org can be
    asked, any other index gives ``unknown`` with the reason. ``cache_dir``: see
    :func:`~depchain.enrich.cache.cache_dir`. ``offline``: the cache only, entries of any
    age, never a socket. ``timeout``: (connect, read) seconds of every request;
    ``retries``: tries per request; ``workers``: requests at once; ``ttl``: seconds a
    cached answer stays fresh; ``backoff``: first retry delay in seconds (doubled each
    time; 0 for none). ``session``: a requests Session to use (for tests and proxies).

    Returns one :class:`Enrichment` per distinct key given; prints nothing; raises
    nothing for index or cache failures (they are in each Enrichment's ``errors``)."""
    keys = list(dict.fromkeys(packages))
    if not keys:
        return {}
    choice = choose_index(index_url)
    notes = list(choice.warnings)
    api = choice.api
    if api is None:
        return {k: _unknown(k, choice, choice.unsupported or "", tuple(notes)) for k in keys}

    from depchain.enrich.cache import cache_dir as locate

    cache: Cache | None
    try:
        cache = Cache(locate(cache_dir), ttl=ttl, create=not offline)
    except CacheError as exc:
        cache = None
        notes.append(f"{exc}; answers are not cached")
    try:
        run = _Run(choice, api, cache, offline, ttl, notes)
        run.lookup(keys)
        if not offline and run.needs_network():
            run.fetch(session, timeout, retries, workers, backoff)
        return {k: run.result(k) for k in keys}
    finally:
        if cache is not None:
            cache.close()


# -- one run ------------------------------------------------------------------------


@dataclass
class _Project:
    name: str
    """The canonical (PEP 503) name."""
    versions: dict[str, str] = field(default_factory=dict)
    """Normalised version -> as asked."""
    project: Entry | None = None
    releases: dict[str, Entry] = field(default_factory=dict)
    """Normalised version -> release facts."""
    provenance: dict[tuple[str, str], Entry] = field(default_factory=dict)
    """(normalised version, filename) -> provenance facts."""
    errors: list[str] = field(default_factory=list)
    provenance_errors: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(normalised version, failure message) -> filenames."""


@dataclass(frozen=True)
class _Answer:
    status: int
    """The HTTP status (2xx or 404), or 0 when the request failed."""
    data: dict[str, Any] | None = None
    error: str | None = None


_ProjectAnswer: TypeAlias = "tuple[_Answer, dict[str, _Answer]]"
"""The project JSON, and per version the version JSON where it had to be asked."""
_Pending: TypeAlias = "dict[Future[_Answer], tuple[_Project, tuple[str, str, str]]]"
_Row: TypeAlias = "tuple[str, str, str, str, int, str]"
"""A cache row: index, project, release, kind, status, body."""


class _Run:
    def __init__(
        self,
        choice: IndexChoice,
        api: str,
        cache: Cache | None,
        offline: bool,
        ttl: float,
        notes: list[str],
    ) -> None:
        self.choice, self.api, self.cache = choice, api, cache
        self.offline, self.ttl, self.notes = offline, ttl, notes
        self.projects: dict[str, _Project] = {}
        self.unwritten: list[_Row] = []
        self.now = time.time()

    # phase 1: what the cache knows

    def lookup(self, keys: list[Key]) -> None:
        from packaging.utils import canonicalize_name

        for name, version in keys:
            canonical = canonicalize_name(name)
            record = self.projects.setdefault(canonical, _Project(canonical))
            if version is not None:
                record.versions.setdefault(_norm_version(version), version)
        for record in self.projects.values():
            entries = self._cached(record.name)
            record.project = entries.get(("", "project"))
            for (release, kind), entry in entries.items():
                if kind == "release":
                    record.releases[release] = entry
                elif kind.startswith("provenance/"):
                    record.provenance[(release, kind.removeprefix("provenance/"))] = entry

    def _cached(self, project: str) -> dict[tuple[str, str], Entry]:
        if self.cache is None:
            return {}
        try:
            return self.cache.get_project(self.api, project)
        except CacheError as exc:
            self.notes.append(str(exc))
            return {}

    def _fresh(self, entry: Entry | None) -> bool:
        return entry is not None and (self.offline or entry.fresh(self.ttl, self.now))

    def _project_due(self, record: _Project) -> bool:
        if not self._fresh(record.project):
            return True
        if record.project is not None and record.project.absent:
            return False
        return any(not self._fresh(record.releases.get(v)) for v in record.versions)

    def _provenance_due(self, record: _Project) -> list[tuple[str, str, str]]:
        """(normalised version, release as on the index, filename) still to ask."""
        due = []
        for version in record.versions:
            facts = _load(record.releases.get(version))
            if not facts.get("found"):
                continue
            for item in facts.get("files", []):
                filename = item["filename"]
                if not self._fresh(record.provenance.get((version, filename))):
                    due.append((version, facts["version"], filename))
        return due

    def needs_network(self) -> bool:
        return any(self._project_due(r) or self._provenance_due(r) for r in self.projects.values())

    # phase 2: ask the index

    def fetch(
        self,
        session: requests.Session | None,
        timeout: Timeout,
        retries: int,
        workers: int,
        backoff: float,
    ) -> None:
        own = session is None
        http = _new_session(workers) if session is None else session

        def get(url: str, accept: str) -> _Answer:
            return _fetch(http, url, accept, timeout=timeout, retries=retries, backoff=backoff)

        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="depchain-index")
        projects: dict[Future[_ProjectAnswer], _Project] = {}
        provenance: _Pending = {}
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        try:
            for record in self.projects.values():
                if self._project_due(record):
                    versions = list(record.versions)
                    future = pool.submit(self._ask_project, get, record.name, versions)
                    projects[future] = record
                    future.add_done_callback(finished.put)
                else:
                    self._submit_provenance(pool, get, record, provenance, finished)
            while projects or provenance:
                done = finished.get()  # one at a time, in the order they finish
                if done in projects:
                    record = projects.pop(done)
                    self._took_project(record, done.result())
                    self._submit_provenance(pool, get, record, provenance, finished)
                else:
                    record, item = provenance.pop(done)
                    self._took_provenance(record, item, done.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._flush()
            if own:
                http.close()

    def _submit_provenance(
        self,
        pool: ThreadPoolExecutor,
        get: Callable[[str, str], _Answer],
        record: _Project,
        pending: _Pending,
        finished: queue.SimpleQueue[Future[Any]],
    ) -> None:
        for item in self._provenance_due(record):
            _, release, filename = item
            url = (
                f"{self.api}/integrity/{quote(record.name, safe='')}/"
                f"{quote(release, safe='')}/{quote(filename, safe='')}/provenance"
            )
            future = pool.submit(get, url, INTEGRITY_ACCEPT)
            pending[future] = (record, item)
            future.add_done_callback(finished.put)

    def _ask_project(
        self, get: Callable[[str, str], _Answer], project: str, versions: list[str]
    ) -> _ProjectAnswer:
        """In a worker: the project JSON, and each version's JSON where the project JSON
        lists no releases."""
        answer = get(f"{self.api}/pypi/{quote(project, safe='')}/json", "application/json")
        per_version: dict[str, _Answer] = {}
        if answer.data is not None and not isinstance(answer.data.get("releases"), dict):
            for version in versions:
                url = f"{self.api}/pypi/{quote(project, safe='')}/{quote(version, safe='')}/json"
                per_version[version] = get(url, "application/json")
        return answer, per_version

    def _took_project(self, record: _Project, result: _ProjectAnswer) -> None:
        answer, per_version = result
        where = f"/pypi/{record.name}/json"
        rows: list[_Row] = []
        if answer.status == 404:
            record.project = Entry(404, "", self.now)
            rows.append((self.api, record.name, "", "project", 404, ""))
        elif answer.data is None:
            self._failed(record, f"{where} {answer.error}", stale=record.project)
        else:
            facts = _project_facts(answer.data)
            body = json.dumps(facts, sort_keys=True)
            record.project = Entry(answer.status, body, self.now)
            rows.append((self.api, record.name, "", "project", answer.status, body))
            releases = answer.data.get("releases")
            for version in record.versions:
                if isinstance(releases, dict):
                    release = _release_facts(releases, version)
                else:
                    sub = per_version.get(version, _Answer(0, error="not asked"))
                    if sub.status == 404:
                        release = {"found": False}
                    elif sub.data is None:
                        stale = record.releases.get(version)
                        self._failed(
                            record, f"/pypi/{record.name}/{version}/json {sub.error}", stale
                        )
                        continue
                    else:
                        release = _release_facts({version: sub.data.get("urls")}, version)
                entry_body = json.dumps(release, sort_keys=True)
                record.releases[version] = Entry(200, entry_body, self.now)
                rows.append((self.api, record.name, version, "release", 200, entry_body))
        self._store(rows)

    def _took_provenance(
        self, record: _Project, item: tuple[str, str, str], answer: _Answer
    ) -> None:
        version, _, filename = item
        if answer.status == 404:
            entry = Entry(404, "", self.now)
        elif answer.data is not None and (publishers := _publishers(answer.data)) is not None:
            entry = Entry(answer.status, json.dumps({"publishers": publishers}), self.now)
        else:
            error = answer.error or "malformed provenance (no attestation_bundles)"
            record.provenance_errors.setdefault((version, error), []).append(filename)
            return
        record.provenance[(version, filename)] = entry
        self._store(
            [(self.api, record.name, version, f"provenance/{filename}", entry.status, entry.body)]
        )

    def _failed(self, record: _Project, message: str, stale: Entry | None) -> None:
        line = f"{self.choice.host}: {message}"
        if stale is not None:
            day = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stale.stored_at))
            line += f"; the answer cached at {day} is used"
        record.errors.append(line)

    def _store(self, rows: list[_Row]) -> None:
        """Queue answers for the cache, written in batches (one transaction each)."""
        self.unwritten.extend(rows)
        if len(self.unwritten) >= 500:
            self._flush()

    def _flush(self) -> None:
        rows, self.unwritten = self.unwritten, []
        if self.cache is None or not rows:
            return
        try:
            self.cache.put_many(rows, now=self.now)
        except CacheError as exc:
            if str(exc) not in self.notes:
                self.notes.append(str(exc))

    # phase 3: one Enrichment per key

    def result(self, key: Key) -> Enrichment:
        from packaging.utils import canonicalize_name

        name, version = key
        record = self.projects[canonicalize_name(name)]
        errors = list(record.errors) + self._provenance_lines(record, version) + self.notes
        host = self.choice.host
        project = record.project
        if project is None:
            reason = (
                f"offline: nothing cached for {name} from {host}"
                if self.offline
                else (errors[0] if errors else f"{host} gave no answer for {name}")
            )
            return _unknown(key, self.choice, reason, tuple(errors))
        used = [project.stored_at]
        if project.absent:
            return Enrichment(
                name,
                version,
                self.choice.display,
                ownership_reason=f"{name} is not on {host}",
                name_absent=True,
                errors=tuple(errors),
                fetched_at=project.stored_at,
            )
        facts = _load(project)
        ownership = facts.get("ownership")
        release_found: bool | None = None
        files: tuple[ReleaseFile, ...] = ()
        if version is not None:
            norm = _norm_version(version)
            release_entry = record.releases.get(norm)
            if release_entry is not None:
                used.append(release_entry.stored_at)
                release = _load(release_entry)
                release_found = bool(release.get("found"))
                files = tuple(
                    self._file(record, norm, item, used) for item in release.get("files", [])
                )
        urls = tuple((str(k), str(v)) for k, v in facts.get("project_urls", []))
        common: dict[str, Any] = {
            "project_known": True,
            "project_urls": urls,
            "source_repository": declared_repository(urls, facts.get("home_page")),
            "release_found": release_found,
            "files": files,
            "errors": tuple(errors),
            "fetched_at": min(used),
        }
        if not isinstance(ownership, dict):
            return Enrichment(
                name,
                version,
                self.choice.display,
                ownership_reason=f"{host}'s JSON API gave no ownership for {name}",
                **common,
            )
        return Enrichment(
            name,
            version,
            self.choice.display,
            ownership_source="pypi-json",
            organization=ownership.get("organization"),
            roles=tuple((str(u), str(r)) for u, r in ownership.get("roles", [])),
            **common,
        )

    def _file(
        self, record: _Project, version: str, item: dict[str, Any], used: list[float]
    ) -> ReleaseFile:
        entry = record.provenance.get((version, item["filename"]))
        state = "unknown"
        publishers: tuple[Publisher, ...] = ()
        if entry is not None:
            used.append(entry.stored_at)
            if entry.absent:
                state = "absent"
            else:
                found = tuple(Publisher(**p) for p in _load(entry).get("publishers", []))
                state, publishers = ("present" if found else "absent"), found
        return ReleaseFile(
            filename=item["filename"],
            kind=item["kind"],
            upload_time=item.get("upload_time"),
            yanked=bool(item.get("yanked")),
            yanked_reason=item.get("yanked_reason"),
            sha256=item.get("sha256"),
            attestation=state,
            publishers=publishers,
        )

    def _provenance_lines(self, record: _Project, version: str | None) -> list[str]:
        lines = []
        norm = None if version is None else _norm_version(version)
        for (release, error), filenames in sorted(record.provenance_errors.items()):
            if release != norm:
                continue
            what = (
                filenames[0]
                if len(filenames) == 1
                else f"{len(filenames)} files of {record.name} {version}"
            )
            lines.append(f"{self.choice.host}: provenance of {what}: {error}")
        return lines


def _unknown(key: Key, choice: IndexChoice, reason: str, errors: tuple[str, ...]) -> Enrichment:
    return Enrichment(key[0], key[1], choice.display, ownership_reason=reason, errors=errors)


# -- parsing: only what is kept ---------------------------------------------------------


def _project_facts(data: dict[str, Any]) -> dict[str, Any]:
    raw_info = data.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    urls = info.get("project_urls")
    ownership = data.get("ownership")
    owned: dict[str, Any] | None = None
    if isinstance(ownership, dict):
        roles = ownership.get("roles")
        org = ownership.get("organization")
        owned = {
            "organization": org if isinstance(org, str) and org else None,
            "roles": [
                [r["user"], r["role"]]
                for r in (roles if isinstance(roles, list) else [])
                if isinstance(r, dict)
                and isinstance(r.get("user"), str)
                and isinstance(r.get("role"), str)
            ],
        }
    home = info.get("home_page")
    return {
        "name": info.get("name") if isinstance(info.get("name"), str) else None,
        "ownership": owned,
        "project_urls": [
            [str(k), v]
            for k, v in (urls.items() if isinstance(urls, dict) else [])
            if isinstance(v, str)
        ],
        "home_page": home if isinstance(home, str) and home else None,
    }


def _release_facts(releases: dict[str, Any], version: str) -> dict[str, Any]:
    key = version if version in releases else None
    if key is None:
        key = next((k for k in releases if _norm_version(k) == version), None)
    if key is None or not isinstance(releases.get(key), list):
        return {"found": False}
    files = []
    for item in releases[key]:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        packagetype = str(item.get("packagetype") or "")
        raw_digests = item.get("digests")
        digests: dict[str, Any] = raw_digests if isinstance(raw_digests, dict) else {}
        reason = item.get("yanked_reason")
        files.append(
            {
                "filename": item["filename"],
                "kind": {"bdist_wheel": "wheel", "sdist": "sdist"}.get(packagetype, packagetype)
                or "unknown",
                "upload_time": item.get("upload_time_iso_8601") or item.get("upload_time"),
                "yanked": bool(item.get("yanked")),
                "yanked_reason": reason if isinstance(reason, str) and reason else None,
                "sha256": digests.get("sha256"),
            }
        )
    return {"found": True, "version": key, "files": sorted(files, key=lambda f: f["filename"])}


def _publishers(data: dict[str, Any]) -> list[dict[str, str | None]] | None:
    """The publishers of a provenance object, or None when it is not one."""
    bundles = data.get("attestation_bundles")
    if not isinstance(bundles, list):
        return None
    out = []
    for bundle in bundles:
        publisher = bundle.get("publisher") if isinstance(bundle, dict) else None
        if not isinstance(publisher, dict):
            return None
        out.append(
            {
                "kind": _text(publisher.get("kind")) or "unknown",
                "repository": _text(publisher.get("repository")),
                "workflow": _text(publisher.get("workflow") or publisher.get("workflow_filepath")),
                "environment": _text(publisher.get("environment")),
            }
        )
    return out


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _load(entry: Entry | None) -> dict[str, Any]:
    if entry is None or entry.absent or not entry.body:
        return {}
    try:
        data = json.loads(entry.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _norm_version(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version.strip()


# -- HTTP ----------------------------------------------------------------------------


def _new_session(workers: int) -> requests.Session:
    import requests
    from requests.adapters import HTTPAdapter

    import depchain

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(1, workers), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"depchain/{depchain.__version__}"
    return session


class _TooLarge(Exception):
    pass


def _fetch(
    session: requests.Session,
    url: str,
    accept: str,
    *,
    timeout: Timeout,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
) -> _Answer:
    """GET ``url`` with its own retry loop: a 2xx JSON object, a 404, or the failure in
    a few words (never the URL's credentials: ``url`` is built from the API base)."""
    import requests

    tries = max(1, retries)
    failure = "no answer"
    retry_after = 0.0
    for attempt in range(tries):
        if attempt and backoff > 0:
            delay = backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
            sleep(max(delay, min(retry_after, 30.0)))
        retry_after = 0.0
        try:
            with session.get(
                url, timeout=timeout, headers={"Accept": accept}, stream=True
            ) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = _seconds(response.headers.get("Retry-After"))
                # read every answer, even a 404's: a connection whose answer was not read
                # is closed instead of going back to the pool, and opening connections
                # again and again costs far more than a few bytes
                body = _read(response)
        except requests.Timeout:
            failure = "timed out"
            continue
        except requests.ConnectionError as exc:  # a read timeout in the body lands here
            failure = "timed out" if "timed out" in str(exc).lower() else "could not connect"
            continue
        except requests.exceptions.ChunkedEncodingError:
            failure = "answer cut short"
            continue
        except requests.RequestException as exc:
            return _Answer(0, error=f"request failed ({type(exc).__name__})")
        except _TooLarge:
            return _Answer(0, error=f"answer larger than {MAX_ANSWER_BYTES // 2**20} MiB")
        if status == 404:
            return _Answer(404)
        if status == 429 or status >= 500:
            failure = f"HTTP {status}"
            continue
        if not 200 <= status < 300:
            return _Answer(0, error=f"HTTP {status}")
        try:
            data = json.loads(body)
        except ValueError:
            failure = "malformed JSON"
            continue
        if not isinstance(data, dict):
            failure = "malformed JSON (not an object)"
            continue
        return _Answer(status, data)
    return _Answer(0, error=f"{failure} after {tries} {'try' if tries == 1 else 'tries'}")


def _read(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
