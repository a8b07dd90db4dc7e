"""``setup.py`` is code: depchain never runs it. It records that the file was seen, so
the report can say that dependencies declared only there are not known."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from depchain.model import Evidence, Fragment
from depchain.resolvers.base import ResolveContext

NAME = "setup-py"
NOTE = (
    "setup.py is not executed; dependencies declared only in its code are not known "
    "(declare them in pyproject.toml [project] or setup.cfg)"
)


def resolve(path: Path, ctx: ResolveContext) -> Fragment:
    subject = ctx.subject_for(path)
    evidence = Evidence(ctx.display(path), None, NAME)
    marked = replace(
        subject,
        evidence=(*subject.evidence, evidence),
        properties=tuple(sorted({*subject.properties, ("depchain:setup-py", NOTE)})),
    )
    return Fragment(components=(marked,), notes=((ctx.display(path), NOTE),))
