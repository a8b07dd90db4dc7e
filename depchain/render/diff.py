"""``depchain diff`` for people and programs: a terminal table, Markdown for a
pull-request comment, and JSON (``depchain-diff/1``, see :mod:`depchain.diff`)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from typing import TypeVar

from depchain import __version__
from depchain.diff import Diff, Document, GapChange, ServiceChange
from depchain.render import printable
from depchain.render.markdown import _cell, _code

WIDTH = 80
SHOWN = 50
"""Rows of a long list shown (the trust changes and new gaps are always shown whole)."""
_T = TypeVar("_T")


def render_json(diff: Diff, fail_on: str = "medium") -> str:
    return json.dumps(diff.as_dict(fail_on), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _version_text(versions: Sequence[str | None]) -> str:
    return ", ".join(v if v is not None else "*" for v in versions) or "*"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def headline(diff: Diff, fail_on: str) -> str:
    """One line: what changed, and how much of it is about trust."""
    at = ""
    if fail_on != "never" and diff.new_gaps:
        at = f" ({len(diff.gaps_failing(fail_on))} at or above {fail_on})"
    return (
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed; "
        f"{_plural(diff.changes, 'trust change') if diff.changes else 'no trust change'}; "
        f"{_plural(len(diff.new_gaps), 'new gap')}{at}, {len(diff.gaps_gone)} gone"
    )


def verdict(diff: Diff, fail_on: str) -> str:
    """Whether the comparison fails (``depchain diff`` exits 1), and on what."""
    if fail_on == "never":
        return "not failing (--fail-on never)"
    gaps = len(diff.gaps_failing(fail_on))
    parts = [_plural(diff.changes, "trust change")] if diff.changes else []
    if gaps:
        parts.append(f"{_plural(gaps, 'new gap')} at or above {fail_on}")
    if not parts:
        return f"passes: no trust change, no new gap at or above {fail_on}"
    return "fails (exit 1): " + " and ".join(parts)


def _where(g: GapChange) -> str:
    return g.where[0] if g.where else "-"


def _severity(g: GapChange) -> str:
    return f"{g.severity} (was {g.was})" if g.was else g.severity


def _service(s: ServiceChange) -> str:
    place = ", ".join(s.endpoints[:2]) or "endpoint not known"
    if s.trust_boundary is True:
        return place + "; across a trust boundary"
    if s.trust_boundary is False:
        return place + "; inside the deployment"
    return place


def _short(identity: str) -> str:
    """``pkg:githubactions/actions/cache`` -> ``actions/cache``."""
    if identity.startswith("pkg:") and "/" in identity:
        return identity.split("/", 1)[1]
    return identity


def _trust_rows(diff: Diff) -> list[tuple[str, str, str]]:
    """(change, what, detail) for every trust change but the gaps, in a fixed order."""
    rows: list[tuple[str, str, str]] = []
    for o in diff.new_owners:
        owned = ", ".join(_short(i) for i in o.components)
        rows.append(("new owner", f"{o.owner} ({o.ecosystem})", owned))
    for s in diff.new_sources:
        users = ", ".join(_short(i) for i in s.components[:5])
        if len(s.components) > 5:
            users += f" and {len(s.components) - 5} more"
        how = "new source" if s.via == "new" else "new source of"
        rows.append((how, s.source, users))
    for h in diff.hashes:
        detail = (
            "no hash any more" if h.change == "lost" else "different hashes for the same version"
        )
        rows.append((f"hashes {h.change}", h.name, f"{detail} ({_version_text(h.versions)})"))
    for a in diff.attestations:
        rows.append(("attestation lost", a.name, f"{a.old} -> {a.new}"))
    for n in diff.new_native:
        rows.append(
            (
                "new native",
                n.name,
                f"{'/'.join(n.kinds)} {n.ecosystem} {_version_text(n.versions)}",
            )
        )
    for sv in diff.services:
        rows.append((f"service {sv.change}", sv.name, _service(sv)))
    return rows


# -- the table -----------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    text = printable(text.replace("\n", " "))
    return text if len(text) <= width else text[: max(width - 1, 0)] + "~"


def _limited(items: Sequence[_T], out: list[str], line: Callable[[_T], str]) -> None:
    for item in items[:SHOWN]:
        out.append(line(item))
    if len(items) > SHOWN:
        out.append(f"    ... and {len(items) - SHOWN} more (--format json lists them all)")


def render_table(diff: Diff, fail_on: str = "medium", width: int = WIDTH) -> str:
    width = max(width, 60)
    name_w = 24 + max(0, width - WIDTH) // 3
    out = [
        f"depchain {__version__} diff",
        _cut(f"  OLD  {diff.old.path} ({_side(diff.old)})", width),
        _cut(f"  NEW  {diff.new.path} ({_side(diff.new)})", width),
        "",
        *textwrap.wrap(printable(headline(diff, fail_on)), width),
        verdict(diff, fail_on),
        "",
    ]
    rows = _trust_rows(diff)
    out.append(f"trust changes ({len(rows)})" if rows else "trust changes: none")
    change_w = max((len(r[0]) for r in rows), default=0)
    for change, what, detail in rows:
        if len(what) > name_w:  # a long one (a source's URL) whole, its detail below
            out.append(_cut(f"  {change:<{change_w}}  {what}", width))
            out.append(_cut(f"  {'':<{change_w}}    {detail}", width))
            continue
        left = f"  {change:<{change_w}}  {what:<{name_w}}  "
        out.append(left + _cut(detail, max(width - len(left), 12)))
    if diff.new_gaps:
        out.append("")
        out.append(f"new gaps ({len(diff.new_gaps)})")
        for g in diff.new_gaps:
            out.append(_gap_line(g, width))
    if diff.gaps_gone:
        out.append("")
        out.append(f"gaps gone ({len(diff.gaps_gone)})")
        _limited(diff.gaps_gone, out, lambda g: _gap_line(g, width))
    for title, items in (("added", diff.added), ("removed", diff.removed)):
        if items:
            out += ["", f"components {title} ({len(items)})"]
            _limited(
                items,
                out,
                lambda c: _cut(
                    f"  {_cut(c.name, name_w):<{name_w}} {c.ecosystem:<14} "
                    f"{_version_text(c.versions)}",
                    width,
                ),
            )
    if diff.changed:
        out += ["", f"versions changed ({len(diff.changed)})"]
        _limited(
            diff.changed,
            out,
            lambda c: _cut(
                f"  {_cut(c.name, name_w):<{name_w}} {_version_text(c.old_versions)} -> "
                f"{_version_text(c.new_versions)}",
                width,
            ),
        )
    if diff.services_gone:
        out += ["", f"services gone ({len(diff.services_gone)})"]
        _limited(diff.services_gone, out, lambda s: _cut(f"  {s.name}", width))
    notes = _notes(diff)
    if notes:
        out += ["", "not compared, and notes"]
        out += [_cut(f"  {n}", width * 2) for n in notes]
    return "\n".join(out) + "\n"


def _side(doc: Document) -> str:
    if doc.revision:
        return f"commit {doc.revision[:12]}"
    return doc.format + (f", {doc.tool}" if doc.tool else "")


def _gap_line(g: GapChange, width: int) -> str:
    where = _where(g)
    where = where if len(where) <= 24 else "~" + where[-23:]
    left = f"  {_severity(g):<8} {g.id:<6} {_cut(where, 24):<24} "
    return left + _cut(g.message or g.subject, max(width - len(left), 20))


def _notes(diff: Diff) -> list[str]:
    out = [f"{facet}: {reason}" for facet, reason in diff.not_compared]
    for label, doc in (("OLD", diff.old), ("NEW", diff.new)):
        out += [f"{label}: {n}" for n in doc.notes]
        if doc.errors:
            out.append(
                f"{label}: {_plural(len(doc.errors), 'input')} could not be read "
                f"(first: {doc.errors[0]})"
            )
    return out


# -- Markdown ------------------------------------------------------------------------


def render_markdown(diff: Diff, fail_on: str = "medium") -> str:
    old, new = diff.old, diff.new
    out = [
        f"### depchain diff: {_code(old.path, in_table=False)} → {_code(new.path, in_table=False)}",
        "",
        f"**{_upper_first(_cell(verdict(diff, fail_on)))}**. {_cell(headline(diff, fail_on))}.",
        "",
    ]
    rows = _trust_rows(diff)
    if rows:
        out += [
            f"#### Trust changes: {len(rows)}",
            "",
            "| change | component | detail |",
            "| --- | --- | --- |",
        ]
        out += [f"| {change} | {_cell(what)} | {_cell(detail)} |" for change, what, detail in rows]
        out.append("")
    if diff.new_gaps:
        failing = {id(g) for g in diff.gaps_failing(fail_on)} if fail_on != "never" else set()
        out += [
            f"#### New trust gaps: {len(diff.new_gaps)}",
            "",
            "| severity | gap | what | where |",
            "| --- | --- | --- | --- |",
        ]
        for g in diff.new_gaps:
            mark = " ❗" if id(g) in failing else ""
            out.append(
                f"| {_severity(g)}{mark} | {g.id} | {_cell(g.message or g.subject)} | "
                f"{_code(_where(g))} |"
            )
        out.append("")
    if not rows and not diff.new_gaps:
        out += ["No trust change.", ""]
    if diff.gaps_gone:
        out += [
            f"<details><summary>Trust gaps gone: {len(diff.gaps_gone)}</summary>",
            "",
            "| severity | gap | what |",
            "| --- | --- | --- |",
        ]
        out += [
            f"| {g.severity} | {g.id} | {_cell(g.message or g.subject)} |"
            for g in diff.gaps_gone[:SHOWN]
        ]
        out += [*_more(len(diff.gaps_gone)), "", "</details>", ""]
    components: list[tuple[str, str, str, str, str]] = [
        ("added", c.name, c.ecosystem, "", _version_text(c.versions)) for c in diff.added
    ]
    components += [
        ("removed", c.name, c.ecosystem, _version_text(c.versions), "") for c in diff.removed
    ]
    components += [
        (
            "changed",
            c.name,
            c.ecosystem,
            _version_text(c.old_versions),
            _version_text(c.new_versions),
        )
        for c in diff.changed
    ]
    if components:
        out += [
            f"<details><summary>Components: {len(diff.added)} added, {len(diff.removed)} "
            f"removed, {len(diff.changed)} changed</summary>",
            "",
            "| change | component | ecosystem | old | new |",
            "| --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| {change} | {_cell(name)} | {_cell(eco)} | {_cell(a) or '-'} | {_cell(b) or '-'} |"
            for change, name, eco, a, b in components[:SHOWN]
        ]
        out += [*_more(len(components)), "", "</details>", ""]
    notes = _notes(diff)
    if notes:
        out += ["<sub>" + "<br>".join(_cell(n) for n in notes) + "</sub>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _more(total: int) -> list[str]:
    if total <= SHOWN:
        return []
    return ["", f"…and {total - SHOWN} more; `--format json` lists them all."]
