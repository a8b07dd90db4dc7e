"""Services: connection URLs, the container images that run a service, and the servers
that client libraries imply. Shared by the compose, Kubernetes and configuration
resolvers, and run once more over the merged graph (:func:`link_client_libraries`).

Secrets never leave this module. A connection URL is read into its parts and only the
parts that are no secret are kept: scheme, host, port, path (with secret-looking
segments replaced by ``***``) and the query without password, token, key or signature
parameters. Whether credentials were present is a property (``present``/``absent``);
the credentials themselves are dropped where they are found, and problems are described
without quoting the text they were found in.
"""

from __future__ import annotations

import ipaddress
import re
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from depchain.ids import normalize
from depchain.model import (
    Component,
    Dependency,
    DependencyKind,
    Evidence,
    Scope,
    Service,
)

if TYPE_CHECKING:
    from depchain.graph import DependencyGraph

# -- the scheme table ---------------------------------------------------------------


@dataclass(frozen=True)
class SchemeInfo:
    """What a URL scheme says about the server behind it."""

    kind: str
    """The id part: ``service:<kind>:<host>:<port>``."""
    family: str
    """What a client library talks to (``postgresql``, ``aws``): see :data:`FAMILIES`."""
    label: str
    port: int | None
    """The default port, when the scheme has one."""
    tls: bool = False
    """The scheme itself means TLS (``https``, ``rediss``)."""
    local_default: bool = False
    """An empty host means this machine (``postgresql:///db`` is a Unix socket)."""
    user_is_secret: bool = False
    """A user name without a password is a token (``https://TOKEN@host``)."""
    cloud: bool = False
    """Always a cloud provider's service: across a trust boundary, the host optional."""


def _scheme(kind: str, family: str, label: str, port: int | None, **flags: bool) -> SchemeInfo:
    return SchemeInfo(kind, family, label, port, **flags)


SCHEMES: dict[str, SchemeInfo] = {
    "postgresql": _scheme("postgresql", "postgresql", "PostgreSQL", 5432, local_default=True),
    "postgres": _scheme("postgresql", "postgresql", "PostgreSQL", 5432, local_default=True),
    "mysql": _scheme("mysql", "mysql", "MySQL", 3306, local_default=True),
    "mariadb": _scheme("mysql", "mysql", "MariaDB", 3306, local_default=True),
    "redis": _scheme("redis", "redis", "Redis", 6379, local_default=True),
    "rediss": _scheme("redis", "redis", "Redis", 6379, tls=True, local_default=True),
    "amqp": _scheme("amqp", "amqp", "AMQP broker", 5672, local_default=True),
    "pyamqp": _scheme("amqp", "amqp", "AMQP broker", 5672, local_default=True),
    "amqps": _scheme("amqp", "amqp", "AMQP broker", 5671, tls=True, local_default=True),
    "mongodb": _scheme("mongodb", "mongodb", "MongoDB", 27017, local_default=True),
    "mongodb+srv": _scheme("mongodb", "mongodb", "MongoDB", None, tls=True),
    "http": _scheme("http", "http", "HTTP", 80, user_is_secret=True),
    "https": _scheme("http", "http", "HTTPS", 443, tls=True, user_is_secret=True),
    "s3": _scheme("s3", "aws", "Amazon S3", None, tls=True, cloud=True),
    "sqs": _scheme("sqs", "aws", "Amazon SQS", None, tls=True, cloud=True),
    "gs": _scheme("gcs", "gcp", "Google Cloud Storage", None, tls=True, cloud=True),
    "kafka": _scheme("kafka", "kafka", "Kafka", 9092, local_default=True),
    "nats": _scheme("nats", "nats", "NATS", 4222, local_default=True),
    "memcached": _scheme("memcached", "memcached", "Memcached", 11211, local_default=True),
    "memcache": _scheme("memcached", "memcached", "Memcached", 11211, local_default=True),
    "elasticsearch": _scheme("elasticsearch", "elasticsearch", "Elasticsearch", 9200),
    "ldap": _scheme("ldap", "ldap", "LDAP", 389),
    "ldaps": _scheme("ldap", "ldap", "LDAP", 636, tls=True),
    "smtp": _scheme("smtp", "smtp", "SMTP", 25),
    "smtps": _scheme("smtp", "smtp", "SMTP", 465, tls=True),
    "sftp": _scheme("sftp", "sftp", "SFTP", 22, tls=True),
    "ftp": _scheme("ftp", "ftp", "FTP", 21),
    "ftps": _scheme("ftp", "ftp", "FTP", 990, tls=True),
}
"""Schemes that name a server (extend freely). Compound schemes are read by their parts:
``postgresql+psycopg2``, ``db+postgresql`` (Celery), ``jdbc:postgresql``."""

FAMILIES: dict[str, str] = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "redis": "Redis",
    "mongodb": "MongoDB",
    "amqp": "AMQP broker",
    "aws": "AWS",
    "gcp": "Google Cloud",
    "azure": "Azure",
    "kafka": "Kafka",
    "nats": "NATS",
    "memcached": "Memcached",
    "elasticsearch": "Elasticsearch",
    "opensearch": "OpenSearch",
    "ldap": "LDAP",
    "smtp": "SMTP",
    "sftp": "SFTP",
    "ftp": "FTP",
    "http": "HTTP",
}
"""Service families and how a service of the family is called when no endpoint is known."""

_VCS_SCHEMES = frozenset({"git", "hg", "svn", "bzr"})


def scheme_info(scheme: str) -> SchemeInfo | None:
    """The server a (possibly compound) scheme names; None for anything else (``file``,
    ``sqlite``, ``git+https``)."""
    scheme = scheme.lower()
    if scheme in SCHEMES:
        return SCHEMES[scheme]
    parts = scheme.split("+")
    if _VCS_SCHEMES.intersection(parts):
        return None
    for part in parts:
        if part in SCHEMES:
            return SCHEMES[part]
    return None


# -- client libraries and images ------------------------------------------------------

CLIENT_LIBRARIES: dict[str, str] = {
    **dict.fromkeys(
        (
            "psycopg",
            "psycopg-binary",
            "psycopg-c",
            "psycopg2",
            "psycopg2-binary",
            "psycopg2cffi",
            "asyncpg",
            "pg8000",
        ),
        "postgresql",
    ),
    **dict.fromkeys(("redis", "aioredis", "hiredis", "redis-py-cluster", "valkey"), "redis"),
    **dict.fromkeys(("pymongo", "motor", "mongoengine"), "mongodb"),
    **dict.fromkeys(
        ("pika", "kombu", "aio-pika", "aiormq", "amqp", "librabbitmq", "aioamqp"), "amqp"
    ),
    **dict.fromkeys(
        ("boto3", "botocore", "aiobotocore", "aioboto3", "boto", "s3fs"),
        "aws",
    ),
    **dict.fromkeys(("elasticsearch", "elasticsearch-dsl", "elasticsearch-async"), "elasticsearch"),
    **dict.fromkeys(("opensearch-py", "opensearch-dsl"), "opensearch"),
    **dict.fromkeys(
        ("kafka-python", "kafka-python-ng", "confluent-kafka", "aiokafka"),
        "kafka",
    ),
    **dict.fromkeys(
        (
            "mysqlclient",
            "pymysql",
            "aiomysql",
            "asyncmy",
            "mysql-connector-python",
            "mysql-connector",
        ),
        "mysql",
    ),
    **dict.fromkeys(
        ("python-memcached", "pymemcache", "pylibmc", "aiomcache", "python-binary-memcached"),
        "memcached",
    ),
    "nats-py": "nats",
    **dict.fromkeys(("python-ldap", "ldap3"), "ldap"),
}
"""Python distributions (normalised names) whose use implies a server of a family.
``google-cloud-*`` and ``azure-*`` are matched by prefix; an ORM (SQLAlchemy) is not a
client by itself."""

_CLIENT_PREFIXES = (("google-cloud-", "gcp"), ("azure-", "azure"))


def client_family(name: str) -> str | None:
    """The service family a Python distribution is a client of, if it is one."""
    normal = normalize(name)
    if normal in CLIENT_LIBRARIES:
        return CLIENT_LIBRARIES[normal]
    for prefix, family in _CLIENT_PREFIXES:
        if normal.startswith(prefix) and len(normal) > len(prefix):
            return family
    return None


IMAGE_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        (
            "postgres",
            "postgis/postgis",
            "bitnami/postgresql",
            "timescale/timescaledb",
            "timescale/timescaledb-ha",
            "supabase/postgres",
            "cimg/postgres",
        ),
        "postgresql",
    ),
    **dict.fromkeys(
        (
            "redis",
            "bitnami/redis",
            "redis/redis-stack",
            "redis/redis-stack-server",
            "valkey/valkey",
            "bitnami/valkey",
        ),
        "redis",
    ),
    **dict.fromkeys(("mongo", "bitnami/mongodb", "mongodb/mongodb-community-server"), "mongodb"),
    **dict.fromkeys(("rabbitmq", "bitnami/rabbitmq"), "amqp"),
    **dict.fromkeys(
        ("mysql", "mariadb", "bitnami/mysql", "bitnami/mariadb", "mysql/mysql-server"), "mysql"
    ),
    **dict.fromkeys(("memcached", "bitnami/memcached"), "memcached"),
    **dict.fromkeys(
        (
            "elasticsearch",
            "docker.elastic.co/elasticsearch/elasticsearch",
            "bitnami/elasticsearch",
        ),
        "elasticsearch",
    ),
    **dict.fromkeys(("opensearchproject/opensearch", "bitnami/opensearch"), "opensearch"),
    **dict.fromkeys(
        ("confluentinc/cp-kafka", "bitnami/kafka", "apache/kafka", "wurstmeister/kafka"),
        "kafka",
    ),
    "nats": "nats",
    "localstack/localstack": "aws",
}
"""Images (``ImageRef.display_name``, Docker Hub's ``library/`` dropped) that run a
server of a family."""


NAME_FAMILIES: dict[str, str] = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "redis": "redis",
    "valkey": "redis",
    "mongo": "mongodb",
    "mongodb": "mongodb",
    "rabbitmq": "amqp",
    "kafka": "kafka",
    "elasticsearch": "elasticsearch",
    "opensearch": "opensearch",
    "memcached": "memcached",
    "nats": "nats",
    "localstack": "aws",
}
"""Deployment services whose name says what they run, when no known image does
(warehouse builds its ``opensearch`` service locally)."""


def name_family(name: str) -> str | None:
    """The service family a deployment service's own name states (``opensearch``)."""
    return NAME_FAMILIES.get(name.lower())


def image_family(display_name: str) -> str | None:
    """The service family of a container image repository (``postgres``, ``bitnami/redis``)."""
    return IMAGE_FAMILIES.get(display_name.lower())


# -- finding connection URLs ----------------------------------------------------------

_URL = re.compile(r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,40})://([^\s'\"<>`\\]*)")
_AMBIGUOUS_USERINFO = re.compile(r"[/?#][^/?#@]+@")
_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?")
_TEMPLATE_HOST = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{[A-Za-z_][A-Za-z0-9_]*\}")
_SECRET_SEGMENT = re.compile(r"(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_\-=.~%+:]{20,}")
_STRIP_PARAM = ("pass", "pwd", "secret", "token", "key", "sig", "credential", "auth")
_NOT_SECRET_PARAM = ("file", "cert", "source", "mechanism", "mode", "sslkey", "rootcert")
_CERT_PARAMS = frozenset(
    {
        "sslcert",
        "sslkey",
        "ssl_certfile",
        "ssl_keyfile",
        "tlscertificatekeyfile",
        "tlscertificatefile",
        "ssl_cert",
        "ssl_key",
    }
)
_TLS_MODES = frozenset(
    {"require", "required", "verify-ca", "verify-full", "verify_ca", "verify_identity"}
)
_TLS_MODE_PARAMS = frozenset({"sslmode", "ssl_mode", "ssl-mode"})
_TLS_FLAG_PARAMS = frozenset({"ssl", "tls", "usessl", "use_ssl", "secure"})
_TRUE = frozenset({"true", "1", "yes", "on", "require", "required"})


@dataclass(frozen=True)
class FoundUrl:
    """One server a connection URL names (a URL with several hosts gives several).

    Holds no secret: ``endpoint`` is the URL without credentials, secret query
    parameters or secret-looking path segments.
    """

    scheme: str
    """As written, lower case (``postgresql+psycopg2``)."""
    info: SchemeInfo
    host: str
    """Lower case; empty only for a cloud service named by its scheme (``sqs://``)."""
    port: int | None
    """As written, or the scheme's default."""
    endpoint: str
    tls: bool
    credentials: bool
    """A password or a token was in the URL."""
    authentication: tuple[str, ...]
    """What the URL authenticates with: ``password``, ``username``, ``token``,
    ``certificate``, or ``none``."""
    offset: int
    """Where the URL starts in the text it was found in."""
    unresolved: bool = False
    """The host is a variable (``${DB_HOST}``), not a name."""
    port_unresolved: bool = False
    """The port is a variable (``email:${EMAIL_PORT}``): the host is known, the port
    is not (``port`` is None)."""


def find_urls(value: object) -> list[FoundUrl]:
    """Every connection URL in a string (another value: none)."""
    return scan_urls(value)[0]


_URL_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9+.:-]*://\S*")


def is_url_value(value: str) -> bool:
    """Whether a configuration value *is* a URL (or a comma-separated list of them), not
    prose that mentions one: a setting the program connects with, not documentation
    (knative's ``_example`` blocks, a description, an SVG's ``xmlns``)."""
    return _URL_VALUE.fullmatch(value.strip()) is not None


def scan_urls(value: object) -> tuple[list[FoundUrl], list[str]]:
    """The connection URLs in a string, and a message for each one that names a server
    but could not be read safely (the message quotes nothing from the text)."""
    if not isinstance(value, str) or "://" not in value:
        return [], []
    found: list[FoundUrl] = []
    problems: list[str] = []
    for m in _URL.finditer(value):
        info = scheme_info(m.group(1))
        if info is None:
            continue
        urls, problem = _parse(m.group(1).lower(), info, _trim(m.group(2)), m.start())
        found.extend(urls)
        if problem:
            problems.append(problem)
    return found, problems


def _trim(rest: str) -> str:
    """The URL without the punctuation of the sentence around it."""
    while rest and rest[-1] in ".,;:!?)]}":
        closing = rest[-1]
        opening = {")": "(", "]": "[", "}": "{"}.get(closing)
        if opening and rest.count(opening) >= rest.count(closing):
            break
        rest = rest[:-1]
    return rest


_TEMPLATE_EXPRESSION = re.compile(
    r"\$\{(?:env:([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)[:?+\-][^{}/?#@\s]*)\}"
)
"""A variable with a modifier or a provider, which a ':' inside would split: the
OpenTelemetry collector's ``${env:HOST}``, Spring's ``${DB_HOST:localhost}``,
compose's ``${PORT:-5432}``. Read as the variable alone: ``${HOST}``."""


def _template_name(m: re.Match[str]) -> str:
    return f"${{{m.group(1) or m.group(2)}}}"


def _parse(
    scheme: str, info: SchemeInfo, rest: str, offset: int
) -> tuple[list[FoundUrl], str | None]:
    rest = _TEMPLATE_EXPRESSION.sub(_template_name, rest)
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if _AMBIGUOUS_USERINFO.search(tail):
        # ``user:pa/ss@host`` or ``user:pa#ss@host``: where the host starts is not sure,
        # so nothing of it can be shown without risking a piece of the password.
        return [], (
            f"a connection URL ({info.label}) could not be read: a '/', '?' or '#' before "
            "an '@' (a password that is not percent-encoded?); it was skipped"
        )
    userinfo, _, hostport = authority.rpartition("@")
    user, _, password = userinfo.partition(":")
    path, _, query = tail.split("#", 1)[0].partition("?")
    tls = info.tls
    token = secret_param = certificate = False
    kept: list[tuple[str, str]] = []
    for key, val in parse_qsl(query, keep_blank_values=True):
        lower = key.lower()
        if lower in _CERT_PARAMS:
            certificate = True
        if (lower in _TLS_MODE_PARAMS and val.lower() in _TLS_MODES) or (
            lower in _TLS_FLAG_PARAMS and val.lower() in _TRUE
        ):
            tls = True
        if any(s in lower for s in _STRIP_PARAM):
            if val and not any(s in lower for s in _NOT_SECRET_PARAM):
                if "pass" in lower or "pwd" in lower:
                    secret_param = True
                else:
                    token = True
            continue
        kept.append((key, val))
    segments = [
        "***" if _SECRET_SEGMENT.fullmatch(s) else s for s in path.split("/")
    ]  # a signature or a webhook token in the path
    clean_path = "/".join(segments)
    clean_query = urlencode(kept, safe="/:,@") if kept else ""
    credentials = bool(password) or token or secret_param or (info.user_is_secret and bool(user))
    methods = set()
    if secret_param:
        methods.add("password")
    if password:
        methods.add("password")
    elif user:
        methods.add("token" if info.user_is_secret else "username")
    if token:
        methods.add("token")
    if certificate:
        methods.add("certificate")
    authentication = tuple(sorted(methods)) or ("none",)
    marker = "***@" if (user or password) else ""
    found: list[FoundUrl] = []
    for part in hostport.split(","):
        parsed = _host_port(part, info)
        if parsed is None:
            return [], (
                f"a connection URL ({info.label}) could not be read: its port is malformed "
                "(a password without an '@'?); it was skipped"
            )
        if isinstance(parsed, str):
            continue  # no host name (``http://*.example.com``, ``http://%s``): no server
        host, port_text, unresolved, port_unresolved = parsed
        if not host and not info.cloud:
            if not info.local_default:
                continue  # ``http://`` alone names nothing
            host = "localhost"
        # a port that is a variable is not the scheme's default: unknown
        port = None if port_unresolved else int(port_text) if port_text else info.port
        shown = f"[{host}]" if ":" in host else host
        endpoint = (
            f"{scheme}://{marker}{shown}{':' + port_text if port_text else ''}{clean_path}"
            f"{'?' + clean_query if clean_query else ''}"
        )
        found.append(
            FoundUrl(
                scheme=scheme,
                info=info,
                host=host,
                port=port,
                endpoint=endpoint,
                tls=tls,
                credentials=credentials,
                authentication=authentication,
                offset=offset,
                unresolved=unresolved,
                port_unresolved=port_unresolved,
            )
        )
    return found, None


def _host_port(text: str, info: SchemeInfo) -> tuple[str, str, bool, bool] | str | None:
    """(host, port as written, host unresolved, port unresolved) of ``host[:port]``;
    None when the port is malformed; a reason when the host is no host name."""
    port = ""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return "no closing bracket"
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                return "text after the address"
            port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "not an IPv6 address"
    else:
        host, colon, port = text.rpartition(":") if ":" in text else (text, "", "")
        if colon and host == "" and not info.cloud:
            return None  # ``redis://:secret`` without an ``@``: no host at all
    unresolved = port_unresolved = False
    if port and not (port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        if not _TEMPLATE_HOST.fullmatch(port):
            return None
        port_unresolved = True  # kept as written: ``${PORT}``
    if host and not _HOST.fullmatch(host) and ":" not in host:
        if not _TEMPLATE_HOST.fullmatch(host):
            return "not a host name"
        unresolved = True
    return host.lower() if not unresolved else host, port, unresolved, port_unresolved


# -- services from URLs ---------------------------------------------------------------

LOCAL_HOSTS = frozenset({"localhost", "ip6-localhost", "host.docker.internal"})
CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")
"""Kubernetes cluster DNS names: never reached across the internet."""


def trust_boundary(
    host: str, info: SchemeInfo | None = None, known_internal_hosts: Collection[str] = ()
) -> bool | None:
    """Whether a host is reached across a trust boundary: False for this machine and the
    services of this deployment, True for a name with a dot or a public address, None
    (unknown) for a bare name or a private address."""
    if info is not None and info.cloud:
        return True
    h = host.lower().rstrip(".")
    if h in known_internal_hosts:
        return False
    if not h or h in LOCAL_HOSTS or h.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(h.strip("[]"))
    except ValueError:
        if _TEMPLATE_HOST.fullmatch(host):
            return None
        if h.endswith(CLUSTER_SUFFIXES):
            return None  # a cluster's own DNS: inside some cluster, not known whose
        return True if "." in h else None
    if address.is_loopback or address.is_unspecified:
        return False
    return True if address.is_global else None


def url_service_id(found: FoundUrl) -> str:
    where = f"[{found.host}]" if ":" in found.host else found.host
    if found.port is not None:
        where = f"{where}:{found.port}"
    return f"service:{found.info.kind}:{where}" if where else f"service:{found.info.kind}"


def url_service(
    found: FoundUrl, evidence: Evidence, known_internal_hosts: Collection[str] = ()
) -> Service | None:
    """The service a connection URL names: one per scheme kind, host and port."""
    if not found.host and not found.info.cloud:
        return None
    where = url_service_id(found).split(":", 2)[2] if found.host else ""
    name = f"{found.info.label} at {where}" if where else found.info.label
    properties = [
        ("depchain:scheme", found.scheme),
        ("depchain:family", found.info.family),
        ("depchain:tls", "true" if found.tls else "false"),
        ("depchain:credentials", "present" if found.credentials else "absent"),
        ("depchain:authentication", ",".join(found.authentication)),
    ]
    if found.host:
        properties.append(("depchain:host", found.host))
    if found.unresolved:
        properties.append(("depchain:host-unresolved", "true"))
    if found.port_unresolved:
        properties.append(("depchain:port-unresolved", "true"))
    return Service(
        id=url_service_id(found),
        name=name,
        endpoints=(found.endpoint,),
        evidence=(evidence,),
        trust_boundary=trust_boundary(found.host, found.info, known_internal_hosts),
        properties=tuple(sorted(properties)),
    )


def line_of_offset(text: str, offset: int) -> int:
    """1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1


class LineFinder:
    """Finds the line a value was written on, when the parser does not say: each call
    for the same needle moves on to its next occurrence (a value used twice), and wraps
    around (a YAML anchor used by several services)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._last: dict[tuple[str, int, int], int] = {}

    def find(self, needle: str, start: int = 0, end: int | None = None) -> int | None:
        """1-based line in ``lines[start:end]`` (0-based bounds) holding ``needle``."""
        if not needle:
            return None
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        key = (needle, start, stop)
        after = self._last.get(key, start - 1)
        for lo in (after + 1, start):
            for i in range(max(lo, 0), stop):
                if needle in self.lines[i]:
                    self._last[key] = i
                    return i + 1
        return None

    def key(self, name: str, start: int = 0, end: int | None = None) -> int | None:
        """1-based line where ``name`` is written as a key (``name:``, ``name =``,
        ``- name=``), in ``lines[start:end]``."""
        pattern = re.compile(
            r"^\s*(?:-\s*)?(?:export\s+)?[\"']?" + re.escape(name) + r"[\"']?\s*[:=]"
        )
        stop = len(self.lines) if end is None else min(end, len(self.lines))
        for i in range(max(start, 0), stop):
            if name in self.lines[i] and pattern.match(self.lines[i]):
                return i + 1
        return None


# -- the merged graph -----------------------------------------------------------------


def _values(service: Service, name: str) -> set[str]:
    return {v for k, v in service.properties if k == name}


def _folders(service: Service) -> set[PurePosixPath]:
    return {PurePosixPath(e.path).parent for e in service.evidence}


def _any_namespace(host: str, name: str) -> bool:
    """``host`` is ``name`` in some namespace: ``name.ns``, ``name.ns.svc``,
    ``name.ns.svc.cluster.local`` (a Service whose manifest names no namespace is
    deployed into whichever one it is applied to)."""
    return (
        re.fullmatch(re.escape(name) + r"\.[a-z0-9-]+(?:\.svc(?:\.cluster\.local)?)?", host)
        is not None
    )


def merge_deployment_endpoints(graph: DependencyGraph) -> None:
    """Fold each URL service whose host is a service of this repository's deployment (a
    compose service of the same or an enclosing folder, a Kubernetes Service by its
    cluster names) into that service: one service per concrete endpoint, its URL's
    scheme, TLS and credentials facts kept, its edges moved."""
    deployed = [s for s in graph.services() if _values(s, "depchain:deployment")]
    if not deployed:
        return
    for service in graph.services():
        if _values(service, "depchain:deployment") or "depchain:host-unresolved" in {
            k for k, _ in service.properties
        }:
            continue
        hosts = _values(service, "depchain:host")
        if len(hosts) != 1:
            continue
        (host,) = hosts
        folders = _folders(service)
        best: list[Service] = []
        best_depth = -1
        for candidate in deployed:
            if host not in _values(candidate, "depchain:hostname") and not (
                "true" in _values(candidate, "depchain:k8s-namespace-unset")
                and _any_namespace(host, candidate.name)
            ):
                continue
            if "kubernetes" in _values(candidate, "depchain:deployment"):
                depth = 0
            else:
                homes = [
                    f for f in _folders(candidate) if any(f == g or f in g.parents for g in folders)
                ]
                if not homes:
                    continue
                depth = max(len(f.parts) for f in homes)
            if depth > best_depth:
                best, best_depth = [candidate], depth
            elif depth == best_depth:
                best.append(candidate)
        if len(best) == 1 and best[0].id != service.id:
            graph.merge_nodes(service.id, best[0].id)
            # the deployment decides where its service stands, not how a URL named it
            merged = graph.node(best[0].id)
            if isinstance(merged, Service):
                graph.replace_node(replace(merged, trust_boundary=best[0].trust_boundary))


def link_client_libraries(graph: DependencyGraph, subjects: str | Sequence[str]) -> None:
    """Link every client library the projects use at run time to the server it implies.

    First folds URL services into the deployment services they name
    (:func:`merge_deployment_endpoints`). Then, for each Python distribution reached
    from one of ``subjects`` (the runtime projects of the tree: a workspace's members,
    the root) through ``dynamic`` edges that is a client library (psycopg → PostgreSQL,
    redis → Redis, boto3 → AWS, ...): a ``service`` edge, mechanism
    ``client-library``, to the concrete services of its family in the graph (found by a
    URL or by the image that runs it) — those of the deployment nearest the project
    (the compose file of its folder or the nearest one above it) where there are
    several; when there is none, to one generic service (``service:postgresql``,
    "PostgreSQL (endpoint not found)") whose trust boundary is unknown. Idempotent;
    prints nothing.
    """
    merge_deployment_endpoints(graph)
    starts = [subjects] if isinstance(subjects, str) else list(subjects)
    clients: dict[str, tuple[Component, str, set[PurePosixPath]]] = {}
    seen: set[str] = set()
    for start in dict.fromkeys(graph.canonical(s) for s in starts):
        if start not in graph or start in seen:
            continue
        home = {PurePosixPath(e.path).parent for e in graph.node(start).evidence}
        seen.add(start)
        queue = deque([start])
        while queue:
            for dep in graph.dependencies_of(queue.popleft()):
                if dep.kind is not DependencyKind.DYNAMIC or dep.target in seen:
                    continue
                seen.add(dep.target)
                node = graph.node(dep.target)
                if not isinstance(node, Component):
                    continue
                queue.append(dep.target)
                family = client_family(node.name) if node.ecosystem == "pypi" else None
                if family is not None:
                    clients[node.id] = (node, family, home)
    if not clients:
        return
    by_family: dict[str, list[Service]] = {}
    for service in graph.services():
        for family in _values(service, "depchain:family"):
            if service.id != f"service:{family}":
                by_family.setdefault(family, []).append(service)
    for client, family, home in (clients[k] for k in sorted(clients)):
        evidence = tuple(sorted(client.evidence))[:1]
        targets = [s.id for s in _nearest(by_family.get(family, []), home)]
        if not targets:
            generic = Service(
                id=f"service:{family}",
                name=f"{FAMILIES.get(family, family)} (endpoint not found)",
                evidence=evidence,
                trust_boundary=None,
                properties=(("depchain:family", family),),
            )
            graph.add_node(generic)
            targets = [generic.id]
        for target in targets:
            graph.add_dependency(
                Dependency(
                    source=client.id,
                    target=target,
                    kind=DependencyKind.SERVICE,
                    scope=Scope.REQUIRED,
                    mechanism="client-library",
                    evidence=evidence,
                )
            )


def _nearest(services: list[Service], home: set[PurePosixPath]) -> list[Service]:
    """Of the services of a family, those whose deployment is nearest the project's
    folders ``home`` (a compose file in the project's folder or the nearest folder
    above it); all of them when none encloses the project (Kubernetes, or a compose
    file beside it)."""
    if len(services) <= 1 or not home:
        return services
    depth: dict[str, int] = {}
    for service in services:
        enclosing = [
            len(f.parts)
            for f in _folders(service)
            for h in home
            if f == h or f in h.parents or str(f) == "."
        ]
        depth[service.id] = max(enclosing, default=-1)
    best = max(depth.values())
    if best < 0:
        return services
    return [s for s in services if depth[s.id] == best]
