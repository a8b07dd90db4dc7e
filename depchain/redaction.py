"""The one redaction point: credentials and tokens in URLs, wherever they stand.

Applied where the model is built (sources, indexes, specifiers, endpoints, Package URL
qualifiers, messages) and once more to every text that leaves the process (the CLI's
outputs and messages, each exporter's document).

What is kept is what identifies without authorising: the scheme, the host, the path,
and the *keys* of a query. Replaced by ``***``:

- the userinfo of a URL (``https://user:token@host`` → ``https://***@host``), except a
  plain ``git@``-style user of an SSH URL, which is no secret;
- every query value (``?token=abc&X-Amz-Signature=…`` → ``?token=***&X-Amz-Signature=***``)
  except those that only say how to connect (``sslmode``, ``timeout``, ``charset``…);
- every fragment value except pip's own (``#egg=``, ``#subdirectory=``, ``#sha256=``…);
- the path of a webhook whose path is its token (Slack, Discord, Teams, Zapier, Telegram);

in plain or percent-encoded form (``%40`` for ``@``, ``%3F`` for ``?``, ``%26`` for
``&``, ``%3D`` for ``=``, ``%23`` for ``#``: how a Package URL qualifier writes them), and
in XML text (``&amp;``).
"""

from __future__ import annotations

import re

_START = re.compile(
    r"(?i)(?<![a-z0-9+.%-])([a-z][a-z0-9.-]{0,15}(?:(?:\+|%2B)[a-z][a-z0-9.-]{0,15})?)"
    r"(://|%3A%2F%2F|%3A//)"
)
"""Where a URL starts; the scheme's length is bounded so the search stays linear."""
_END = re.compile(r"[\s\"'<>`\\]")
_QUERY_OR_FRAGMENT = re.compile(r"(?i)\?|%3F|#|%23")
_PATH = re.compile(r"(?i)/|%2F")
_AT = re.compile(r"(?i)@|%40")
_DELIMITER = re.compile(r"(?i)(\?|%3F|&amp;|&|%26|#|%23|;)")
_EQUALS = re.compile(r"(?i)=|%3D")
_KEPT_FRAGMENT_KEYS = frozenset(
    {"egg", "subdirectory", "sha1", "sha224", "sha256", "sha384", "sha512", "md5", "blake2b"}
)
"""pip's fragment keys: a name, a folder, a hash: none of them a secret."""
_KEPT_QUERY_KEYS = frozenset(
    {
        "sslmode",
        "ssl",
        "tls",
        "ssl_cert_reqs",
        "tlsinsecure",
        "timeout",
        "connect_timeout",
        "charset",
        "encoding",
        "application_name",
        "authsource",
        "authmechanism",
        "replicaset",
        "retrywrites",
        "readpreference",
        "region",
        "schema",
        "search_path",
        "protocol",
        "transport",
        "virtual_host",
        "heartbeat",
        "egg",
        "subdirectory",
    }
)
"""Query keys whose values say how to connect, never who may: kept as written."""
HIDDEN = "***"
_TOKEN_IN_PATH = (
    ("hooks.slack.com", "/services/"),
    ("hooks.slack.com", "/workflows/"),
    ("hooks.slack.com", "/triggers/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
    ("webhook.office.com", "/webhookb2/"),
    ("outlook.office.com", "/webhook/"),
    ("hooks.zapier.com", "/hooks/catch/"),
    ("maker.ifttt.com", "/trigger/"),
)
"""Webhook services whose URL path is the secret: the path after the prefix is hidden."""


def redact_url(text: str) -> str:
    """``text`` with the credentials, query values and secret fragments of every URL
    in it replaced by ``***`` (see the module's docstring). Idempotent."""
    if "://" not in text and "%3a" not in text.lower():
        return text
    starts = list(_START.finditer(text))
    if not starts:
        return text
    out: list[str] = [text[: starts[0].start()]]
    for i, m in enumerate(starts):
        limit = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        end = _END.search(text, m.end(), limit)
        stop = end.start() if end else limit
        out.append(_redact_one(m.group(1), m.group(2), text[m.end() : stop]))
        out.append(text[stop:limit])
    return "".join(out)


redact_text = redact_url
"""The same, named for what it is applied to at an output boundary: any text."""


def _redact_one(scheme: str, sep: str, body: str) -> str:
    cut = _QUERY_OR_FRAGMENT.search(body)
    head, tail = (body[: cut.start()], body[cut.start() :]) if cut else (body, "")
    slash = _PATH.search(head)
    authority, path = (head[: slash.start()], head[slash.start() :]) if slash else (head, "")
    ats = list(_AT.finditer(authority))
    if ats:
        userinfo, rest = authority[: ats[-1].start()], authority[ats[-1].start() :]
        plain_ssh_user = (
            "ssh" in scheme.lower()
            and ":" not in userinfo
            and "%3a" not in userinfo.lower()
            and userinfo not in {"", HIDDEN}
            and len(ats) == 1
        )
        if userinfo and not plain_ssh_user:
            authority = HIDDEN + rest
    host = _AT.split(authority)[-1].split(":")[0].lower()
    for suffix, keep in _TOKEN_IN_PATH:
        if (host == suffix or host.endswith("." + suffix)) and path.startswith(keep):
            path = keep + HIDDEN if len(path) > len(keep) else path
            break
    else:
        if host.startswith(("api.telegram.org",)):
            path = re.sub(r"^/bot[^/]+", "/bot" + HIDDEN, path)
    return f"{scheme}{sep}{authority}{path}{_redact_tail(tail)}"


def _redact_tail(tail: str) -> str:
    """Query values, and fragment values other than pip's own, as ``***``."""
    if not tail:
        return tail
    parts = _DELIMITER.split(tail)
    out: list[str] = []
    in_fragment = False
    for i, part in enumerate(parts):
        if i % 2 == 1:  # a delimiter
            if part in {"#"} or part.lower() == "%23":
                in_fragment = True
            out.append(part)
            continue
        eq = _EQUALS.search(part)
        if eq is None:
            out.append(part)  # ``?raw``, ``#readme``: a key or an anchor, no value
            continue
        key, value = part[: eq.start()], part[eq.end() :]
        kept = _KEPT_FRAGMENT_KEYS if in_fragment else _KEPT_QUERY_KEYS
        if not value or value == HIDDEN or key.lower() in kept:
            out.append(part)
        else:
            out.append(f"{key}{eq.group()}{HIDDEN}")
    return "".join(out)


_BARE_USERINFO = re.compile(r"(?<![\w.+%-])[^\s@/'\"]+:[^\s@/'\"]*@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def quote(value: object, limit: int = 60) -> str:
    """A value from the input as a message may show it: credentials hidden (in URLs, and
    ``user:password@`` written without a scheme, as in an image reference), control
    characters escaped, at most ``limit`` characters, in quotes."""
    text = str(value)
    if len(text) > limit * 8:  # too long to show a part of safely: say what it is
        return f"<a value of {len(text)} characters>"
    text = redact_url(text)
    text = _BARE_USERINFO.sub(HIDDEN + "@", text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    # repr escapes what is not printable once (a newline shows as \n, not \\n); what
    # it leaves, the bidirectional marks among them, is escaped after it
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], repr(text))
