"""Ownership and provenance of Python distributions, from the package index.

For each (name, version) :func:`enrich` asks, at most once per project and per file:

- the Simple API project page (``<index>/<name>/``), as PEP 691 JSON or else the PEP 503
  HTML page (:mod:`depchain.enrich.simple`): every file of the release with its kind,
  sha256, upload time, yanked flag and reason, its PEP 740 ``provenance`` link where
  the index serves them, and the project's PEP 792 status. Any index can answer this;
- on pypi.org and test.pypi.org (Warehouse) only, the project JSON API
  (``/pypi/<name>/json``): the ``ownership`` object (``organization`` and the ``roles``
  of users), ``info.project_urls`` and ``info.home_page`` (the declared source
  repository), the latest release's declared licence (``info.license_expression``,
  ``info.license``, the licence classifiers: used for that version only); and the
  release's files from it when the Simple API gave none (``releases``, else
  ``/pypi/<name>/<version>/json``);
- each file's provenance: the link the Simple API gave; where the index does not
  implement PEP 740 links but is Warehouse, its Integrity API
  (``/integrity/<name>/<version>/<filename>/provenance``). Provenance objects are read
  and **verified** with pypi-attestations (:mod:`depchain.enrich.attestations`): the
  publisher of each bundle (kind, repository, workflow, environment), and whether its
  attestations verify against the file's listed sha256.

Every request goes through :class:`~depchain.enrich.fetch.Fetcher`: an overall deadline
per request and per scan (``timeout``, ``--index-timeout``), a size cap, redirects only
where :class:`~depchain.enrich.fetch.Reach` allows, a bounded retry loop (exponential
backoff on timeouts, connection errors, 429 and 5xx; none on 404 or another 4xx; a
malformed JSON answer is retried too), on a bounded thread pool. Counts are bounded too:
files per Simple page (:data:`depchain.enrich.simple.MAX_FILES`), provenance objects
asked per project (:data:`MAX_PROVENANCE`). Answers are kept in
:class:`~depchain.enrich.cache.Cache`; ``offline=True`` reads that cache only and never
opens a socket (nor imports requests). A failure affects only its component: it is
reported in :attr:`Enrichment.errors` and what it would have told is ``unknown``.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote, urlsplit, urlunsplit

from depchain.enrich import simple
from depchain.enrich.cache import DEFAULT_TTL, Cache, CacheError, Entry
from depchain.enrich.fetch import Fetcher, Limits, Reach
from depchain.enrich.index import IndexChoice, choose_index
from depchain.enrich.repos import declared_repository

if TYPE_CHECKING:
    from pathlib import Path

    import requests

    from depchain.model import Component, License

Key: TypeAlias = "tuple[str, str | None]"

MAX_PROVENANCE = 50
"""Provenance objects asked per project in one run (the rest wait for the next run)."""

MAX_PROVENANCE_BYTES = 1024 * 1024
"""The largest provenance object read (one is a few kilobytes)."""

INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json, application/json;q=0.9"


@dataclass(frozen=True, order=True)
class Publisher:
    """The trusted publisher named by one attestation bundle."""

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
    """``present``, ``absent`` (the index says there is none) or ``unknown`` (not asked:
    offline with nothing cached, an index that serves no provenance, or the request
    failed)."""
    publishers: tuple[Publisher, ...] = ()
    verified: bool | None = None
    """Whether the attestations verify (see :mod:`depchain.enrich.attestations`): True,
    False (one does not), None (none present, or it could not be checked)."""
    verification: str | None = None
    """What the verification said, in one line."""


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
    """The public index (pypi.org, test.pypi.org) answered 404 for the project: nobody
    has registered the name there. Never set from another index."""
    project_status: str | None = None
    """PEP 792 status from the Simple API (``active``, ``archived``, ``quarantined``,
    ``deprecated``), or None when the index does not say."""
    project_status_reason: str | None = None
    errors: tuple[str, ...] = ()
    """One line per failure (``pypi.org: /pypi/foo/json timed out after 3 tries``)."""
    license: License | None = None
    """The licence the index's JSON API declares for this version (None: not said, or
    it describes another version)."""
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

    @property
    def attestation(self) -> str:
        """``present`` (a file has one), ``none`` (the index says no file has one) or
        ``unknown``."""
        states = {f.attestation for f in self.files}
        if "present" in states:
            return "present"
        return "none" if states == {"absent"} else "unknown"

    @property
    def verified(self) -> str:
        """Of the attested files: ``verified`` (all verify), ``failed`` (one does not),
        ``unverified`` (one could not be checked) or ``none`` (no attestation)."""
        attested = [f for f in self.files if f.attestation == "present"]
        if not attested:
            return "none"
        if any(f.verified is False for f in attested):
            return "failed"
        return "verified" if all(f.verified for f in attested) else "unverified"


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
    timeout: float = 60.0,
    request_timeout: float = 15.0,
    retries: int = 3,
    workers: int = 8,
    session: requests.Session | None = None,
    ttl: float = DEFAULT_TTL,
    backoff: float = 0.5,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[Key, Enrichment]:
    """Ownership, release files and attestation publishers for each (name, version).

    ``index_url``: the index to ask (else pip's configuration, else PyPI; see
    :func:`~depchain.enrich.index.choose_index`). Any index that serves the Simple API
    gives release files, yanking, project status and (where it implements PEP 740)
    provenance; only pypi.org and test.pypi.org say who owns a project, so another index
    gives ``unknown`` ownership with the reason. ``cache_dir``: see
    :func:`~depchain.enrich.cache.cache_dir`. ``offline``: the cache only, entries of any
    age, never a socket. ``timeout``: seconds for all the requests of this call
    (``--index-timeout``): what is not answered by then is ``unknown`` with a note;
    ``request_timeout``: seconds for one request, retries and redirects included;
    ``retries``: tries per request; ``workers``: requests at once; ``ttl``: seconds a
    cached answer stays fresh; ``backoff``: first retry delay in seconds (doubled each
    time; 0 for none). ``session``: a requests Session to use (for tests and proxies).
    ``progress``: called as ``progress(done, total, project)`` as answers come in.

    Returns one :class:`Enrichment` per distinct key given; prints nothing; raises
    nothing for index or cache failures (they are in each Enrichment's ``errors``)."""
    keys = list(dict.fromkeys(packages))
    if not keys:
        return {}
    choice = choose_index(index_url)
    notes = list(choice.warnings)

    from depchain.enrich.cache import cache_dir as locate

    cache: Cache | None
    try:
        cache = Cache(locate(cache_dir), ttl=ttl, create=not offline)
    except CacheError as exc:
        cache = None
        notes.append(f"{exc}; answers are not cached")
    try:
        run = _Run(choice, cache, offline, ttl, notes)
        run.progress = progress
        run.lookup(keys)
        if not offline and run.needs_network():
            limits = Limits(scan=timeout, request=request_timeout)
            fetcher = Fetcher(
                session, run.reach, limits, retries=retries, backoff=backoff, workers=workers
            )
            try:
                run.fetch(fetcher, workers)
            finally:
                fetcher.close()
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
    """The JSON API's facts (Warehouse only)."""
    listing: Entry | None = None
    """The Simple API page's facts about the project (name, API version, status)."""
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
    listing: simple.Listing | None = None
    """A Simple API page, parsed (in the worker)."""


@dataclass(frozen=True)
class _ProjectAnswer:
    simple: _Answer
    json: _Answer | None
    """The project JSON (Warehouse only)."""
    per_version: dict[str, _Answer]
    """The version JSON, where neither the Simple API nor the project JSON listed files."""


@dataclass(frozen=True)
class _Due:
    """A provenance object to ask for."""

    version: str
    """Normalised."""
    filename: str
    url: str
    sha256: str | None


_Pending: TypeAlias = "dict[Future[_Answer], tuple[_Project, _Due]]"
_Row: TypeAlias = "tuple[str, str, str, str, int, str]"
"""A cache row: index, project, release, kind, status, body."""


class _Run:
    def __init__(
        self,
        choice: IndexChoice,
        cache: Cache | None,
        offline: bool,
        ttl: float,
        notes: list[str],
    ) -> None:
        self.choice, self.api, self.cache = choice, choice.api, cache
        self.namespace = choice.api or choice.display
        """What the cache's entries are kept under: the API base, or the index URL."""
        self.offline, self.ttl, self.notes = offline, ttl, notes
        self.progress: Callable[[int, int, str], None] | None = None
        self.reach = Reach(choice.url)
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
            entries = self._cached(record)
            record.project = entries.get(("", "project"))
            record.listing = entries.get(("", "listing"))
            for (release, kind), entry in entries.items():
                if kind == "release":
                    record.releases[release] = entry
                elif kind.startswith("provenance/"):
                    record.provenance[(release, kind.removeprefix("provenance/"))] = entry

    def _cached(self, record: _Project) -> dict[tuple[str, str], Entry]:
        """The project's cached entries that are well formed; the others are dropped
        from the cache and said in the project's errors."""
        from depchain.enrich import cache as cache_module
        from depchain.enrich import facts

        if self.cache is None:
            return {}
        try:
            entries, bad = self.cache.read_project(self.namespace, record.name)
        except CacheError as exc:
            self._cache_failed(exc)
            return {}
        for key, entry in list(entries.items()):
            if facts.problem(key[1], entry, self.now) is not None:
                del entries[key]
                if bad is not None:
                    bad.append(key)
        if bad is None:
            record.errors.append(
                f"more than {cache_module.MAX_ROWS} cache entries for {record.name}: all "
                "ignored and dropped"
            )
        elif bad:
            record.errors.append(
                f"{len(bad)} malformed cache {'entry' if len(bad) == 1 else 'entries'} for "
                f"{record.name} ignored and dropped"
            )
        if bad is None or bad:
            try:
                self.cache.drop(self.namespace, record.name, bad)
            except CacheError as exc:
                self._cache_failed(exc)
        return entries

    def _cache_failed(self, exc: CacheError) -> None:
        """The cache is left alone for the rest of the run (a locked file would make
        every look-up wait): what it holds is a miss, nothing more is written."""
        if self.cache is not None:
            self.cache.close()
            self.cache = None
        self.notes.append(f"{exc}; answers are not cached")

    def _fresh(self, entry: Entry | None) -> bool:
        return entry is not None and (self.offline or entry.fresh(self.ttl, self.now))

    def _absent(self, record: _Project) -> bool:
        """The index answered 404 for the project: the Simple API did, or on Warehouse the
        JSON API did and the Simple API did not contradict it (a project with no
        release, or a quarantined one, has a Simple page and no JSON)."""
        listing = record.listing
        if self.api is None:
            return listing is not None and listing.absent
        project = record.project
        return project is not None and project.absent and (listing is None or listing.absent)

    def _project_due(self, record: _Project) -> bool:
        own = [record.listing] + ([record.project] if self.api else [])
        if not all(self._fresh(e) for e in own):
            return True
        if self._absent(record):
            return False
        return any(not self._fresh(record.releases.get(v)) for v in record.versions)

    def _provenance_due(self, record: _Project) -> list[_Due]:
        """The provenance objects still to ask for: each file's PEP 740 link; on a
        Warehouse index that gives no links, its Integrity API URL."""
        due = []
        for version in record.versions:
            facts = _load(record.releases.get(version))
            if not facts.get("found"):
                continue
            for item in facts.get("files", []):
                filename = item["filename"]
                entry = record.provenance.get((version, filename))
                if self._fresh(entry) and _verified_for(entry, item):
                    continue
                if "provenance" in item:
                    url = self._followed(item["provenance"])
                    if url is None:
                        continue
                elif self.api is not None:
                    url = (
                        f"{self.api}/integrity/{quote(record.name, safe='')}/"
                        f"{quote(facts['version'], safe='')}/{quote(filename, safe='')}/provenance"
                    )
                else:
                    continue
                due.append(_Due(version, filename, url, item.get("sha256")))
        return due

    def _followed(self, link: str | None) -> str | None:
        """The URL to ask for a PEP 740 link, or None when it is not followed: where a
        redirect may go (:meth:`Reach.refusal`); the index's credentials go only to its
        own host."""
        if link is None or self.reach.refusal(link) is not None:
            return None
        parts = urlsplit(link)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        return self.reach.with_credentials(bare)

    def needs_network(self) -> bool:
        return any(self._project_due(r) or self._provenance_due(r) for r in self.projects.values())

    # phase 2: ask the index

    def fetch(self, fetcher: Fetcher, workers: int) -> None:
        def get(url: str, accept: str) -> _Answer:  # a provenance object
            got = fetcher.get(url, accept, limit=MAX_PROVENANCE_BYTES)
            return _Answer(got.status, got.data, got.error)

        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="depchain-index")
        projects: dict[Future[_ProjectAnswer], _Project] = {}
        provenance: _Pending = {}
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        try:
            for record in self.projects.values():
                if self._project_due(record):
                    versions = list(record.versions)
                    future = pool.submit(self._ask_project, fetcher, record.name, versions)
                    projects[future] = record
                    future.add_done_callback(finished.put)
                else:
                    self._submit_provenance(pool, get, record, provenance, finished)
            answered = 0
            while projects or provenance:
                done = finished.get()  # one at a time, in the order they finish
                answered += 1
                if self.progress is not None:
                    owner = projects[done] if done in projects else provenance[done][0]
                    left = len(projects) + len(provenance) - 1
                    self.progress(answered, answered + left, owner.name)
                if done in projects:
                    record = projects.pop(done)
                    self._took_project(record, done.result())
                    self._submit_provenance(pool, get, record, provenance, finished)
                else:
                    record, item = provenance.pop(done)
                    answer = done.result()
                    if answer.data is not None and fetcher.spent:  # no time to verify it
                        answer = _Answer(0, error="not verified: the index time budget was spent")
                    self._took_provenance(record, item, answer)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._flush()

    def _submit_provenance(
        self,
        pool: ThreadPoolExecutor,
        get: Callable[[str, str], _Answer],
        record: _Project,
        pending: _Pending,
        finished: queue.SimpleQueue[Future[Any]],
    ) -> None:
        due = self._provenance_due(record)
        if len(due) > MAX_PROVENANCE:
            record.errors.append(
                f"{self.choice.host}: provenance of {len(due) - MAX_PROVENANCE} more files of "
                f"{record.name} not asked (at most {MAX_PROVENANCE} per project and run)"
            )
        for item in due[:MAX_PROVENANCE]:
            future = pool.submit(get, item.url, INTEGRITY_ACCEPT)
            pending[future] = (record, item)
            future.add_done_callback(finished.put)

    def _ask_project(self, fetcher: Fetcher, project: str, versions: list[str]) -> _ProjectAnswer:
        """In a worker: the Simple API page; on Warehouse the project JSON too, and each
        version's JSON where neither listed the files."""

        def get(url: str, accept: str) -> _Answer:
            got = fetcher.get(url, accept)
            return _Answer(got.status, got.data, got.error)

        name = quote(project, safe="")
        got = fetcher.get(self.choice.project_url(name), simple.ACCEPT, raw=True)
        answer = _Answer(got.status, error=got.error)
        if got.body is not None:
            try:
                listing = simple.parse(got.body, got.content_type, got.url, project)
                answer = _Answer(got.status, listing=listing)
            except simple.SimpleError as exc:
                answer = _Answer(0, error=str(exc))
        if self.api is None:
            return _ProjectAnswer(answer, None, {})
        project_json = get(f"{self.api}/pypi/{name}/json", "application/json")
        per_version: dict[str, _Answer] = {}
        data = project_json.data
        if (
            answer.listing is None
            and data is not None
            and not isinstance(data.get("releases"), dict)
        ):
            for version in versions:
                url = f"{self.api}/pypi/{name}/{quote(version, safe='')}/json"
                per_version[version] = get(url, "application/json")
        return _ProjectAnswer(answer, project_json, per_version)

    def _took_project(self, record: _Project, result: _ProjectAnswer) -> None:
        rows: list[_Row] = []
        page = result.simple
        record.listing = self._keep(
            record,
            "listing",
            page,
            page.listing.facts() if page.listing is not None else None,
            urlsplit(self.choice.project_url(record.name)).path,
            rows,
        )
        releases: dict[str, Any] | None = None
        if result.json is not None:
            data = result.json.data
            facts = _project_facts(data) if data is not None else None
            where = f"/pypi/{record.name}/json"
            record.project = self._keep(record, "project", result.json, facts, where, rows)
            found = data.get("releases") if data is not None else None
            releases = found if isinstance(found, dict) else None
            if releases is not None and len(releases) > simple.MAX_FILES:
                self._failed(record, f"{where} lists more than {simple.MAX_FILES} releases", None)
                releases = None
        if not self._absent(record):
            for version in record.versions:
                release = self._release(record, version, page.listing, releases, result.per_version)
                if release is None:
                    continue
                entry_body = json.dumps(release, sort_keys=True)
                record.releases[version] = Entry(200, entry_body, self.now)
                rows.append((self.namespace, record.name, version, "release", 200, entry_body))
        self._store(rows)

    def _keep(
        self,
        record: _Project,
        kind: str,
        answer: _Answer,
        facts: dict[str, Any] | None,
        where: str,
        rows: list[_Row],
    ) -> Entry | None:
        """The new entry of a project-level answer (``project``, ``listing``): a 404 kept
        as the fact of absence, the facts of a good answer kept; after a failure, said
        in the component's errors, the entry cached before (if any) stays."""
        stale = record.project if kind == "project" else record.listing
        if answer.status == 404:
            entry = Entry(404, "", self.now)
        elif facts is None:
            self._failed(record, f"{where} {answer.error}", stale)
            return stale
        else:
            entry = Entry(answer.status, json.dumps(facts, sort_keys=True), self.now)
        rows.append((self.namespace, record.name, "", kind, entry.status, entry.body))
        return entry

    def _release(
        self,
        record: _Project,
        version: str,
        listing: simple.Listing | None,
        releases: dict[str, Any] | None,
        per_version: dict[str, _Answer],
    ) -> dict[str, Any] | None:
        """The release facts of one version, from the first source that lists files: the
        Simple API, the project JSON's releases, the version JSON. None: not known."""
        files = simple.release_files(listing.files, version) if listing is not None else []
        if listing is not None and (releases is None or files):
            as_listed = next((v for v in listing.versions if _norm_version(v) == version), None)
            if not files and as_listed is None:
                return {"found": False}
            as_listed = as_listed or record.versions[version]
            kept = [{k: v for k, v in f.items() if k != "version"} for f in files]
            return {"found": True, "version": as_listed, "listing": "simple", "files": kept}
        if releases is not None:
            return _release_facts(releases, version)
        sub = per_version.get(version)
        if sub is None:
            return None  # the Simple API failed and the JSON API lists nothing: not known
        if sub.status == 404:
            return {"found": False}
        if sub.data is None:
            stale = record.releases.get(version)
            self._failed(record, f"/pypi/{record.name}/{version}/json {sub.error}", stale)
            return None
        return _release_facts({version: sub.data.get("urls")}, version)

    def _took_provenance(self, record: _Project, item: _Due, answer: _Answer) -> None:
        from depchain.enrich.attestations import MalformedProvenance, read

        if answer.status == 404:
            entry = Entry(404, "", self.now)
        elif answer.data is None:
            record.provenance_errors.setdefault(
                (item.version, answer.error or "no answer"), []
            ).append(item.filename)
            return
        else:
            try:
                facts = {**read(answer.data, item.filename, item.sha256), "sha256": item.sha256}
            except MalformedProvenance as exc:
                record.provenance_errors.setdefault((item.version, str(exc)), []).append(
                    item.filename
                )
                return
            entry = Entry(answer.status, json.dumps(facts, sort_keys=True), self.now)
        record.provenance[(item.version, item.filename)] = entry
        kind = f"provenance/{item.filename}"
        self._store([(self.namespace, record.name, item.version, kind, entry.status, entry.body)])

    def _failed(self, record: _Project, message: str, stale: Entry | None) -> None:
        line = f"{self.choice.host}: {message}"
        if stale is not None:
            day = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stale.stored_at))
            line += f"; the answer cached at {day} is used"
        record.errors.append(line)

    def _store(self, rows: list[_Row]) -> None:
        """Queue answers for the cache, written in batches (one transaction each). An
        answer that repeats a secret of the index URL is not cached (an index may put
        its token in its links: the cache is no place for it)."""
        secrets = self.choice.secrets
        kept = [r for r in rows if not any(x in str(f) for f in r for x in secrets)]
        if len(kept) < len(rows) and _NOT_CACHED not in self.notes:
            self.notes.append(_NOT_CACHED)
        self.unwritten.extend(kept)
        if len(self.unwritten) >= 500:
            self._flush()

    def _flush(self) -> None:
        rows, self.unwritten = self.unwritten, []
        if self.cache is None or not rows:
            return
        try:
            self.cache.put_many(rows, now=self.now)
        except CacheError as exc:
            self._cache_failed(exc)

    # phase 3: one Enrichment per key

    def result(self, key: Key) -> Enrichment:
        """What is known of one key, with the index URL's secrets hidden wherever the
        index may have repeated them (messages, reasons, URLs)."""
        return _scrubbed(self._result(key), self.choice.secrets)

    def _result(self, key: Key) -> Enrichment:
        from packaging.utils import canonicalize_name

        name, version = key
        record = self.projects[canonicalize_name(name)]
        errors = list(record.errors) + self._provenance_lines(record, version) + self.notes
        host = self.choice.host
        primary = record.project if self.api else record.listing
        if self.api and primary is not None and primary.absent and not self._absent(record):
            primary = record.listing  # the Simple API lists what the JSON API does not
        if primary is None:
            reason = (
                f"offline: nothing cached for {name} from {host}"
                if self.offline
                else (errors[0] if errors else f"{host} gave no answer for {name}")
            )
            return _unknown(key, self.choice, reason, tuple(errors))
        used = [primary.stored_at]
        if primary.absent:
            return Enrichment(
                name,
                version,
                self.choice.display,
                ownership_reason=f"{name} is not on {host}",
                release_found=False if version is not None else None,
                name_absent=self.api is not None,
                errors=tuple(errors),
                fetched_at=primary.stored_at,
            )
        facts = _load(record.project)
        listed = _load(record.listing)
        if record.listing is not None:
            used.append(record.listing.stored_at)
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
            "project_known": self.api is not None and bool(facts),
            "project_urls": urls,
            "source_repository": declared_repository(urls, facts.get("home_page")),
            "release_found": release_found,
            "files": files,
            "license": _index_license(facts, version),
            "project_status": listed.get("status"),
            "project_status_reason": listed.get("status_reason"),
            "errors": tuple(errors),
            "fetched_at": min(used),
        }
        ownership = facts.get("ownership")
        if self.api is None or not isinstance(ownership, dict):
            reason = self.choice.unsupported or (
                f"{host}'s JSON API has no answer for {name}"
                if record.project is not None and record.project.absent
                else f"{host}'s JSON API gave no ownership for {name}"
            )
            return Enrichment(name, version, self.choice.display, ownership_reason=reason, **common)
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
        verified: bool | None = None
        verification: str | None = None
        if entry is not None:
            used.append(entry.stored_at)
            if entry.absent:
                state = "absent"
            else:
                facts = _load(entry)
                found = tuple(Publisher(**p) for p in facts.get("publishers", []))
                state, publishers = ("present" if found else "absent"), found
                verified, verification = facts.get("verified"), facts.get("verification")
                if not _verified_for(entry, item):
                    verified = None
                    verification = (
                        "verified against another sha256 than the index lists now; "
                        "not verified again (no fresh answer)"
                    )
        if item.get("conflict"):
            verified, verification = None, item["conflict"]
        elif "provenance" in item and item["provenance"] is None:
            state = "absent"  # the index implements PEP 740 and lists no provenance
        return ReleaseFile(
            filename=item["filename"],
            kind=item["kind"],
            upload_time=item.get("upload_time"),
            yanked=bool(item.get("yanked")),
            yanked_reason=item.get("yanked_reason"),
            sha256=item.get("sha256"),
            attestation=state,
            publishers=publishers,
            verified=verified,
            verification=verification,
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


_NOT_CACHED = "an answer that repeats the index URL's credentials was not cached"


def _scrubbed(enrichment: Enrichment, secrets: tuple[str, ...]) -> Enrichment:
    """Every text of ``enrichment`` (and of its files) with each secret as ``***``."""
    from dataclasses import fields, replace

    from depchain.model import License

    if not secrets:
        return enrichment

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "***")
            return value
        if isinstance(value, tuple):
            return tuple(clean(v) for v in value)
        if isinstance(value, (ReleaseFile, Publisher, License)):
            return replace(value, **{f.name: clean(getattr(value, f.name)) for f in fields(value)})
        return value

    return replace(
        enrichment, **{f.name: clean(getattr(enrichment, f.name)) for f in fields(enrichment)}
    )


def _unknown(key: Key, choice: IndexChoice, reason: str, errors: tuple[str, ...]) -> Enrichment:
    return Enrichment(key[0], key[1], choice.display, ownership_reason=reason, errors=errors)


# -- parsing the JSON API: only what is kept ------------------------------------------


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
        **_license_facts(info),
    }


def _license_facts(info: dict[str, Any]) -> dict[str, Any]:
    """What ``info`` declares of the licence of the release it describes (the latest):
    its version, ``license_expression`` (PEP 639), ``license`` when it is short enough
    to be a name (a whole licence text is only noted as one: the cache is no place for
    it) and the licence classifiers."""
    from depchain.licenses import is_name, is_placeholder

    def text(key: str, limit: int = 256) -> str | None:
        value = info.get(key)
        return value.strip() if isinstance(value, str) and 0 < len(value.strip()) <= limit else None

    declared = info.get("license")
    declared = declared if isinstance(declared, str) and not is_placeholder(declared) else None
    classifiers = info.get("classifiers")
    return {
        "version": text("version", 128),
        "license_expression": text("license_expression", 1000),
        "license": declared.strip() if declared is not None and is_name(declared) else None,
        "license_text": declared is not None and not is_name(declared),
        "license_classifiers": sorted(
            {
                c
                for c in (classifiers if isinstance(classifiers, list) else [])
                if isinstance(c, str) and c.startswith("License ::") and len(c) <= 256
            }
        )[:32],
    }


def _index_license(facts: dict[str, Any], version: str | None) -> License | None:
    """The licence the index's project JSON declares, for ``version`` only: the JSON
    API describes the latest release, and a project may change its licence between
    releases, so another version's is not this one's."""
    from depchain import licenses
    from depchain.model import License

    latest = facts.get("version")
    if (
        version is None
        or not isinstance(latest, str)
        or _norm_version(latest) != _norm_version(version)
    ):
        return None
    classifiers = facts.get("license_classifiers") or []
    found = licenses.declared(
        facts.get("license_expression"), facts.get("license"), classifiers, origin="index:"
    )
    if found is None and facts.get("license_text"):
        return License(
            source="index:License",
            unknown="the License field holds a licence text, not an SPDX identifier or name",
        )
    return found


def index_metadata(component: Component, found: Enrichment) -> Component:
    """``component`` with what the index declares of it and its metadata did not: the
    licence of the same version (:func:`_index_license`), and the project URLs. Called
    where enrichment writes its facts onto the graph."""
    from dataclasses import replace

    from depchain.declared import project_links

    links = project_links(found.project_urls) if found.project_known else ()
    if found.license is None and not links:
        return component
    return component.merged(replace(component, license=found.license, links=links))


def _release_facts(releases: dict[str, Any], version: str) -> dict[str, Any]:
    key = version if version in releases else None
    if key is None:
        key = next((k for k in releases if _norm_version(k) == version), None)
    if key is None or not isinstance(releases.get(key), list):
        return {"found": False}
    files = []
    for item in releases[key][: simple.MAX_FILES]:
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
    return {
        "found": True,
        "version": key,
        "listing": "json",
        "files": sorted(files, key=lambda f: f["filename"]),
    }


def _verified_for(entry: Entry | None, item: dict[str, Any]) -> bool:
    """A cached provenance entry was checked against the sha256 the file has now (a 404
    holds whatever the sha256)."""
    if entry is None or entry.absent:
        return True
    return _load(entry).get("sha256") == item.get("sha256")


def _load(entry: Entry | None) -> dict[str, Any]:
    if entry is None or entry.absent or not entry.body:
        return {}
    try:
        data = json.loads(entry.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _norm_version(version: str) -> str:
    return simple.normalize_version(version) or version
