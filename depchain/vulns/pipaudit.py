"""pip-audit's own vulnerability services as a :class:`VulnerabilitySource`.

``PipAuditSource("osv")`` asks OSV's API (``/v1/query``) and ``PipAuditSource("pypi")``
asks PyPI's JSON API, each through pip-audit's Python interface
(``pip_audit._service``: :class:`OsvService`, :class:`PyPIService`, their ``query`` of a
``ResolvedDependency``). That interface is internal to pip-audit, so the versions it is
known to work with are pinned (:data:`SUPPORTED_PIP_AUDIT`); another version, or one
where the names used here are missing, is a :class:`SourceError` naming the version.

What is asked: PyPI components with an exact (PEP 440) version, each name and version
once. What comes back, per query: the advisories (pip-audit's ``VulnerabilityResult``
mapped to :class:`Advisory`), or :class:`NotAudited` with the reason in one line (not
PyPI, no exact version, a lookup that failed, no answer before the deadline). A service
that cannot be reached at all (refused, unknown host, no answer to the first query) is a
:class:`SourceError` that says how to audit offline.

pip-audit's result object carries no severity. Where the answer itself has one (an OSV
record's ``severity`` CVSS vectors, ``database_specific.severity``), it is read from the
same response through a ``requests`` response hook on the session the service uses,
matched to pip-audit's result by the record's ids, and rated as the offline source rates
it (:mod:`depchain.vulns.cvss`: the highest CVSS v3 base score, else the record's own
word); otherwise the severity is :attr:`Severity.UNKNOWN`.

Time is bounded twice: ``timeout`` seconds per socket operation of each request (pip-
audit's own ``timeout``), and ``deadline`` seconds for the whole ``query_all``; what is
not answered by then is not audited, with that reason. Lookups run on a few daemon
threads, so a request that outlives the deadline never holds the process.
"""

from __future__ import annotations

import contextlib
import inspect
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from depchain.redaction import redact_url
from depchain.vulns.interface import (
    Advisory,
    Cvss,
    NotAudited,
    Query,
    Severity,
    SourceError,
    SourceInfo,
)

if TYPE_CHECKING:
    import requests

SUPPORTED_PIP_AUDIT = ">=2.7,<3"
"""The pip-audit versions whose ``pip_audit._service`` interface this module uses (read
from 2.7.0 to 2.10.1: ``OsvService``/``PyPIService`` with ``cache_dir``, ``timeout``, a
``session`` attribute and ``query(ResolvedDependency)``; ``VulnerabilityResult`` with
``id``, ``aliases``, ``description``, ``fix_versions``, ``published``)."""

OSV_QUERY_URL = "https://api.osv.dev/v1/query"
"""Where pip-audit's OSV service posts (its ``DEFAULT_OSV_URL`` since 2.10)."""
PYPI_URL = "https://pypi.org"
"""The host pip-audit's PyPI service asks (``/pypi/<name>/<version>/json``)."""

DEFAULT_DEADLINE = 120.0
DEFAULT_WORKERS = 8
_BREAKER = 3
"""Consecutive connection failures after which the rest is not asked."""

ServiceName = Literal["osv", "pypi"]

_LABELS = {"osv": "the OSV service", "pypi": "PyPI's vulnerability service"}


@dataclass(frozen=True)
class _Api:
    """The parts of pip-audit used here, found once."""

    version: str
    osv: Any
    pypi: Any
    resolved: Any
    service_error: type[Exception]
    osv_takes_url: bool


def load_pip_audit() -> _Api:
    """pip-audit's service interface, or :class:`SourceError` naming the installed
    version when it is missing, outside :data:`SUPPORTED_PIP_AUDIT`, or changed."""
    from importlib import metadata

    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    supported = f"depchain uses pip-audit {SUPPORTED_PIP_AUDIT}"
    try:
        installed = metadata.version("pip-audit")
    except metadata.PackageNotFoundError:
        raise SourceError(
            f"pip-audit is not installed ({supported}); install it, or use --vuln-db to "
            "audit offline"
        ) from None
    try:
        inside = Version(installed) in SpecifierSet(SUPPORTED_PIP_AUDIT)
    except InvalidVersion:
        inside = False
    if not inside:
        raise SourceError(
            f"pip-audit {installed} is installed, but {supported} (its internal service "
            "interface may differ); install a version in that range, or use --vuln-db"
        )
    try:
        from pip_audit import _service  # type: ignore[import-untyped]

        api = _Api(
            version=installed,
            osv=_service.OsvService,
            pypi=_service.PyPIService,
            resolved=_service.ResolvedDependency,
            service_error=_service.ServiceError,
            osv_takes_url="osv_url" in inspect.signature(_service.OsvService).parameters,
        )
        result_fields = set(getattr(_service.VulnerabilityResult, "__dataclass_fields__", {}))
        resolved_fields = set(getattr(api.resolved, "__dataclass_fields__", {}))
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise SourceError(
            f"pip-audit {installed} lacks the service interface depchain uses "
            f"({type(exc).__name__}: {str(exc)[:120]}); {supported}, or use --vuln-db"
        ) from None
    missing = {"id", "aliases", "description", "fix_versions"} - result_fields
    missing |= {"name", "version"} - resolved_fields
    for cls in (api.osv, api.pypi):
        if not callable(getattr(cls, "query", None)):
            missing.add(f"{cls.__name__}.query")
    if missing:
        raise SourceError(
            f"pip-audit {installed} lacks the service interface depchain uses (missing: "
            f"{', '.join(sorted(missing))}); {supported}, or use --vuln-db"
        )
    return api


class PipAuditSource:
    """pip-audit's OSV (``"osv"``) or PyPI (``"pypi"``) service.

    ``timeout``: seconds per socket operation of a request; ``session``: a
    ``requests.Session`` the service uses instead of pip-audit's caching one (never
    closed here); ``cache_dir``: pip-audit's HTTP cache (default: depchain's cache
    folder + ``pip-audit``); ``endpoint``: the OSV query URL (default
    :data:`OSV_QUERY_URL`) or the PyPI base URL (default :data:`PYPI_URL`), for a mirror
    or a test server; ``deadline``: seconds for one :meth:`query_all`; ``workers``:
    lookups at once.

    Raises :class:`SourceError` for an unknown service name. pip-audit itself is loaded
    by :meth:`query_all`, which raises :class:`SourceError` when it is unusable or the
    service cannot be reached."""

    def __init__(
        self,
        service: ServiceName | str,
        timeout: float = 15,
        session: requests.Session | None = None,
        cache_dir: str | Path | None = None,
        *,
        endpoint: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        if service not in _LABELS:
            raise SourceError(f"unknown pip-audit service {service[:40]!r}: osv or pypi")
        self.service: ServiceName = "osv" if service == "osv" else "pypi"
        self.timeout = float(timeout)
        self.session = session
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        default = OSV_QUERY_URL if service == "osv" else PYPI_URL
        self.endpoint = endpoint or default
        if service == "pypi":
            self.endpoint = self.endpoint.rstrip("/")
        self.deadline = float(deadline)
        self.workers = max(1, int(workers))

    @property
    def name(self) -> str:
        return f"pip-audit-{self.service}"

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(
            name=self.name,
            location=redact_url(self.endpoint),
            updated=None,
            records=None,
            ecosystems=("PyPI",),
        )

    def covers(self, query: Query) -> bool:
        return query.ecosystem == "PyPI"

    # -- the queries ----------------------------------------------------------------------

    def query_all(self, queries: Sequence[Query]) -> Mapping[Query, list[Advisory] | NotAudited]:
        from packaging.utils import canonicalize_name
        from packaging.version import InvalidVersion, Version

        answers: dict[Query, list[Advisory] | NotAudited] = {}
        asked: dict[tuple[str, str], list[Query]] = {}
        versions: dict[tuple[str, str], Version] = {}
        same: dict[tuple[str, Version], tuple[str, str]] = {}
        for query in queries:
            if query.ecosystem != "PyPI":
                answers[query] = NotAudited("pip-audit's services cover PyPI only")
                continue
            if not query.version.strip() or not query.name.strip():
                answers[query] = NotAudited("no exact version")
                continue
            try:
                version = Version(query.version)
            except InvalidVersion:
                answers[query] = NotAudited(
                    f"no exact version ({query.version[:40]!r} is not a PEP 440 version)"
                )
                continue
            # one lookup per name and version (3.2 and 3.2.0 are one version in PEP 440)
            key = (str(canonicalize_name(query.name)), str(version))
            key = same.setdefault((key[0], version), key)
            asked.setdefault(key, []).append(query)
            versions.setdefault(key, version)
        if not asked:
            return answers
        api = load_pip_audit()
        run = _Run(self, api)
        try:
            looked_up = run.all([(key, versions[key]) for key in asked])
        finally:
            run.close()
        for key, group in asked.items():
            answer = looked_up.get(key) or NotAudited("no answer")
            for query in group:
                answers[query] = answer
        return answers

    def describe_unreachable(self, why: str) -> str:
        where = redact_url(self.endpoint)
        return (
            f"{_LABELS[self.service]} at {where} cannot be reached: {why}; use --vuln-db "
            "(fill the cache with 'depchain db update') to audit offline"
        )


# -- one run of lookups -------------------------------------------------------------------


class _Records:
    """What the raw answers say that pip-audit's results do not (severity, CVSS vectors,
    the record's own id, references, dates), keyed by each record's set of ids."""

    def __init__(self) -> None:
        self._by_ids: dict[frozenset[str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def hook(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        try:
            if not 200 <= int(response.status_code) < 300:
                return
            data = response.json()
        except Exception:  # the service's own parsing reports a bad answer
            return
        if not isinstance(data, dict):
            return
        records = data.get("vulns", data.get("vulnerabilities"))
        if not isinstance(records, list):
            return
        for record in records[:10_000]:
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                continue
            aliases = record.get("aliases")
            ids = {record["id"], *(a for a in aliases or () if isinstance(a, str))}
            with self._lock:
                self._by_ids[frozenset(ids)] = record

    def find(self, ids: frozenset[str]) -> dict[str, Any] | None:
        with self._lock:
            return self._by_ids.get(ids)


class _Run:
    """One ``query_all``: the service built, the hook installed, the lookups run."""

    def __init__(self, source: PipAuditSource, api: _Api) -> None:
        self.source = source
        self.api = api
        self.records = _Records()
        self._mounted: list[str] = []
        self._own_session = source.session is None
        self.service = self._build()
        self.session: Any = self.service.session
        self.session.hooks.setdefault("response", []).append(self.records.hook)
        self._failures = 0
        self._lock = threading.Lock()

    def _build(self) -> Any:
        source, api = self.source, self.api
        cache = source.cache_dir
        if cache is None:
            from depchain.enrich.cache import cache_dir

            cache = cache_dir() / "pip-audit"
        kwargs: dict[str, Any] = {"cache_dir": cache, "timeout": source.timeout}
        if source.service == "osv" and api.osv_takes_url:
            kwargs["osv_url"] = source.endpoint
        try:
            service = (api.osv if source.service == "osv" else api.pypi)(**kwargs)
        except Exception as exc:
            raise SourceError(
                f"pip-audit {api.version}'s {source.service} service cannot be set up: "
                f"{type(exc).__name__}: {str(exc)[:120]}"
            ) from None
        if source.session is not None:
            with contextlib.suppress(Exception):
                service.session.close()
            service.session = source.session
        # where pip-audit cannot be told the URL (the PyPI service; OSV before 2.10), the
        # requests meant for the default one are sent to the endpoint by an adapter
        default = OSV_QUERY_URL if source.service == "osv" else PYPI_URL
        if source.endpoint != default and not (source.service == "osv" and api.osv_takes_url):
            prefix = default if source.service == "osv" else default + "/"
            target = source.endpoint if source.service == "osv" else source.endpoint + "/"
            service.session.mount(prefix, _Redirect(service.session, prefix, target))
            self._mounted.append(prefix)
        return service

    def close(self) -> None:
        hooks = self.session.hooks.get("response", [])
        if self.records.hook in hooks:
            hooks.remove(self.records.hook)
        for prefix in self._mounted:
            adapter = self.session.adapters.pop(prefix, None)
            if adapter is not None:
                adapter.close()
        if self._own_session:
            with contextlib.suppress(Exception):
                self.session.close()

    def all(self, keys: list[tuple[tuple[str, str], Any]]) -> dict[tuple[str, str], Any]:
        """Every lookup: the first alone (an unreachable service raises), then the rest
        on worker threads until the deadline."""
        start = time.monotonic()
        deadline = start + self.source.deadline
        done: dict[tuple[str, str], list[Advisory] | NotAudited] = {}
        first, rest = keys[0], keys[1:]
        done[first[0]] = self.lookup(first[0], first[1], deadline, first_query=True)
        if not rest:
            return done
        todo: queue.Queue[tuple[tuple[str, str], Any]] = queue.Queue()
        for item in rest:
            todo.put(item)
        results: queue.Queue[tuple[tuple[str, str], list[Advisory] | NotAudited]] = queue.Queue()

        def work() -> None:
            while True:
                try:
                    key, version = todo.get_nowait()
                except queue.Empty:
                    return
                results.put((key, self.lookup(key, version, deadline)))

        for i in range(min(self.source.workers, len(rest))):
            threading.Thread(target=work, name=f"depchain-pip-audit-{i}", daemon=True).start()
        while len(done) < len(keys):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                key, answer = results.get(timeout=remaining)
            except queue.Empty:
                break
            done[key] = answer
        late = NotAudited(f"no answer within the deadline ({self.source.deadline:g} s)")
        # stop the workers taking more; those mid-request end with their own timeout
        with contextlib.suppress(Exception):
            while True:
                todo.get_nowait()
        for key, _version in keys:
            done.setdefault(key, late)
        return done

    def lookup(
        self, key: tuple[str, str], version: Any, deadline: float, *, first_query: bool = False
    ) -> list[Advisory] | NotAudited:
        import requests

        if time.monotonic() >= deadline:
            return NotAudited(f"no answer within the deadline ({self.source.deadline:g} s)")
        with self._lock:
            if self._failures >= _BREAKER:
                return NotAudited(
                    f"not asked: {_LABELS[self.source.service]} stopped answering "
                    f"({_BREAKER} connections failed in a row)"
                )
        name, _ = key
        try:
            dependency = self.api.resolved(name=name, version=version)
            answered, results = self.service.query(dependency)
        except Exception as exc:
            unreachable = isinstance(exc, (requests.ConnectionError, requests.Timeout)) or (
                type(exc).__name__ == "ConnectionError" and isinstance(exc, self.api.service_error)
            )
            why = self._why(exc)
            if unreachable:
                if first_query:
                    raise SourceError(self.source.describe_unreachable(why)) from None
                with self._lock:
                    self._failures += 1
            return NotAudited(f"the lookup failed: {why}")
        with self._lock:
            self._failures = 0
        if getattr(answered, "skip_reason", None):
            return NotAudited(str(answered.skip_reason).splitlines()[0][:200])
        try:
            return [self._advisory(result, name) for result in results]
        except Exception as exc:
            return NotAudited(f"the lookup failed: an answer depchain cannot read ({exc!r:.80})")

    def _why(self, exc: BaseException) -> str:
        """One line, no URL: what went wrong with a request."""
        import requests

        timeout = f"{self.source.timeout:g} s"
        cause = exc.__cause__ or exc.__context__
        if isinstance(exc, self.api.service_error) and isinstance(cause, requests.HTTPError):
            status = getattr(cause.response, "status_code", None)
            return f"the service answered HTTP {status}" if status else "HTTP error"
        if isinstance(exc, requests.ConnectTimeout):
            return f"connecting timed out ({timeout})"
        if isinstance(exc, requests.Timeout):
            return f"no answer within {timeout}"
        if isinstance(exc, requests.exceptions.SSLError):
            return "the TLS handshake failed"
        if isinstance(exc, requests.exceptions.ProxyError):
            return "the proxy failed"
        if isinstance(exc, requests.ConnectionError):
            text = str(exc).lower()
            if "refused" in text:
                return "connection refused"
            if any(
                word in text
                for word in ("name or service", "nodename", "getaddrinfo", "resolution", "resolve")
            ):
                return "the host name cannot be resolved"
            if "timed out" in text:
                return f"no answer within {timeout}"
            if "reset" in text or "aborted" in text:
                return "the connection was reset"
            return "could not connect"
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return "the answer was cut short"
        if isinstance(exc, ValueError):  # JSONDecodeError, InvalidVersion
            return f"an answer depchain cannot read ({type(exc).__name__})"
        if isinstance(exc, self.api.service_error):
            said = redact_url(str(exc).splitlines()[0][:120]) if str(exc) else ""
            return said or type(exc).__name__
        return f"{type(exc).__name__}"

    def _advisory(self, result: Any, name: str) -> Advisory:
        ids = frozenset({str(result.id), *(str(a) for a in result.aliases)})
        record = self.records.find(ids) or {}
        own = record["id"] if isinstance(record.get("id"), str) else str(result.id)
        severity, cvss = _severity(record, name)
        published = record.get("published")
        if not isinstance(published, str):
            when = getattr(result, "published", None)
            published = when.strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None
        modified = record.get("modified")
        return Advisory(
            id=own,
            aliases=tuple(sorted(ids - {own})),
            summary=str(result.description or "").strip(),
            severity=severity,
            cvss=cvss,
            fixed_in=tuple(str(v) for v in result.fix_versions),
            published=published,
            modified=modified if isinstance(modified, str) else None,
            references=_references(record),
            source=self.source.name,
        )


def _severity(record: Mapping[str, Any], name: str) -> tuple[Severity, tuple[Cvss, ...]]:
    """As the offline source rates a record: the CVSS vectors of the record and of its
    ``affected`` entries for this package, scored where they can be (CVSS v3); the
    rating of the highest score, else the record's own severity word, else unknown."""
    from packaging.utils import canonicalize_name

    from depchain.vulns.cvss import base_score, rating, severity_word

    holders: list[Mapping[str, Any]] = [record]
    for affected in record.get("affected") or ():
        package = affected.get("package") if isinstance(affected, dict) else None
        named = package.get("name") if isinstance(package, dict) else None
        if isinstance(named, str) and canonicalize_name(named) == name:
            holders.append(affected)
    vectors: dict[str, float | None] = {}
    words: list[Severity] = []
    for holder in holders:
        for entry in holder.get("severity") or ():
            if not isinstance(entry, dict):
                continue
            kind, vector = entry.get("type"), entry.get("score")
            if isinstance(kind, str) and kind.startswith("CVSS") and isinstance(vector, str):
                vector = vector.strip()[:500]
                if vectors.get(vector) is None:
                    vectors[vector] = base_score(kind, vector)
        for key in ("database_specific", "ecosystem_specific"):
            specific = holder.get(key)
            word = severity_word(specific.get("severity")) if isinstance(specific, dict) else None
            if word is not None:
                words.append(word)
    scores = [score for score in vectors.values() if score is not None]
    if scores:
        severity = rating(max(scores))
    elif words:
        severity = min(words, key=list(Severity).index)
    else:
        severity = Severity.UNKNOWN
    return severity, tuple(Cvss(vector, score) for vector, score in vectors.items())


def _references(record: Mapping[str, Any]) -> tuple[str, ...]:
    urls: list[str] = []
    link = record.get("link")  # PyPI's JSON API
    if isinstance(link, str):
        urls.append(link)
    for ref in record.get("references") or ():
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            urls.append(ref["url"])
    return tuple(dict.fromkeys(u for u in urls if u.startswith(("https://", "http://"))))[:5]


class _Redirect:  # duck-typed requests.adapters.BaseAdapter (requests is imported late)
    """A transport adapter that sends a request for ``prefix...`` to ``target...`` over
    whichever adapter the session has for the new URL (pip-audit's cache included)."""

    def __init__(self, session: Any, prefix: str, target: str) -> None:
        self.session, self.prefix, self.target = session, prefix, target

    def send(self, request: Any, **kwargs: Any) -> Any:
        request.url = self.target + request.url[len(self.prefix) :]
        return self.session.get_adapter(request.url).send(request, **kwargs)

    def close(self) -> None:
        return None
