"""YAML, read safely: PyYAML's safe loader (no objects, no code), with bounds on what
an attacker-shaped file can make it do.

- a document whose aliases expand to more than :data:`MAX_EXPANDED` nodes is refused
  (billion laughs: PyYAML shares the aliased objects, so the harm would come to
  whoever walks the result; shared objects are measured once, so this check is fast);
- nesting deeper than :data:`MAX_DEPTH` is refused;
- a mapping with the same key twice is refused, naming the key and its line (YAML
  says keys are unique; loaders that keep the last one hide the first);
- the file size bound is the caller's (``ResolveContext.read_text``).

Errors are :class:`~depchain.errors.InputFileError` with one line naming the position.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from depchain.errors import InputFileError

MAX_EXPANDED = 1_000_000
MAX_DEPTH = 200


def load_all(text: str, display: str, skip_kind: Callable[[str], bool] | None = None) -> list[Any]:
    """Every document of a YAML stream (Kubernetes manifests hold several).

    ``skip_kind``: a document whose top-level ``kind:`` (a line of its own, at the
    first column, beside an ``apiVersion:`` one) it says yes to is not parsed, only
    ``{apiVersion: depchain.skipped, kind: <kind>}`` in its place: a reader that takes
    nothing from a ``CustomResourceDefinition`` need not build argo-cd's 2 MB of
    schemas into objects. The documents keep their number and their lines."""
    import yaml

    if skip_kind is not None:
        text = _skipped(text, skip_kind)

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class BoundedLoader(base):  # type: ignore[misc,valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        raise yaml.YAMLError(
                            f"duplicate key {key!r} (lines {seen[key]} and "
                            f"{key_node.start_mark.line + 1})"
                        )
                    seen[key] = key_node.start_mark.line + 1
                except TypeError:
                    continue  # an unhashable key: the constructor reports it
            return super().construct_mapping(node, deep=deep)

    # PyYAML resolves a plain ``=`` to the YAML 1.1 "value" type, for which the safe
    # loader has no constructor; everywhere it occurs in practice (kustomize's
    # ``delimiter: =``) it is the one-character string
    BoundedLoader.add_constructor("tag:yaml.org,2002:value", BoundedLoader.construct_yaml_str)

    def construct_int(loader: Any, node: Any) -> Any:
        # more digits than Python converts (and no manifest means): the text, cut
        if len(str(node.value)) > 4000:
            return str(node.value)[:20] + "..."
        return loader.construct_yaml_int(node)

    BoundedLoader.add_constructor("tag:yaml.org,2002:int", construct_int)

    def construct_timestamp(loader: Any, node: Any) -> Any:
        # a plain scalar shaped like a date that is none (2024-13-45): the text, as
        # YAML 1.2 loaders read it
        try:
            return loader.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return str(node.value)

    BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    try:
        documents = list(yaml.load_all(text, Loader=BoundedLoader))  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # the problem and its position only: the parser's quote of the source line could
        # carry a secret from the file
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise InputFileError(display, f"invalid YAML: {problem}{where}") from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise InputFileError(display, f"invalid YAML: {message}") from None
    except RecursionError:
        raise InputFileError(display, "invalid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a constructor's, unforeseen
        raise InputFileError(
            display, f"invalid YAML: a value cannot be read ({type(exc).__name__})"
        ) from None
    memo: dict[int, tuple[int, int]] = {}
    for document in documents:
        size, depth = _measure(document, memo, 0)
        if depth > MAX_DEPTH:
            raise InputFileError(display, f"invalid YAML: nested deeper than {MAX_DEPTH}")
        if size > MAX_EXPANDED:
            raise InputFileError(
                display,
                f"invalid YAML: its aliases expand to more than {MAX_EXPANDED} "
                "nodes (a billion-laughs document); refused",
            )
    return documents


_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t]|\r?$)")
_BARE_START = re.compile(r"---[ \t]*(?:#.*)?\r?$")
_KIND = re.compile(r"kind:[ \t]*([\"']?)([A-Za-z][A-Za-z0-9]{0,100})\1[ \t]*(?:#.*)?\r?$")
_API_VERSION = re.compile(r"apiVersion:[ \t]*\S")
_NOT_LINE_BREAK = re.compile("[^\r\x85\u2028\u2029]")
"""Everything in a line but what PyYAML counts as a line break (``\\n`` ends it)."""


def _skipped(text: str, skip_kind: Callable[[str], bool]) -> str:
    """``text`` with each document ``skip_kind`` names reduced to a one-line stub and
    blank lines (as many, with the same line breaks). Only documents that begin the
    stream or start on a bare ``---`` line are touched (one after ``...`` is not)."""
    if "kind:" not in text:
        return text
    lines = text.split("\n")
    starts = [0] + [i for i, line in enumerate(lines) if _MARKER.match(line)]
    starts.append(len(lines))
    out: list[str] = []
    done = 0
    for start, end in itertools.pairwise(starts):
        if start == end:
            continue
        first = start
        if start or _MARKER.match(lines[0]):
            if not _BARE_START.match(lines[start]):
                continue
            first = start + 1
        body = lines[first:end]
        kinds = [m.group(2) for line in body if (m := _KIND.match(line))]
        if (
            len(kinds) != 1
            or not skip_kind(kinds[0])
            or not any(_API_VERSION.match(line) for line in body)
            or any("{{" in line for line in body)  # a template: said as one where read
        ):
            continue
        out.extend(lines[done:first])
        out.append(f"{{apiVersion: depchain.skipped, kind: {kinds[0]}}}")
        out.extend(_NOT_LINE_BREAK.sub("", line) for line in body[1:])
        out[-len(body)] += _NOT_LINE_BREAK.sub("", body[0])  # its own line breaks
        done = end
    if not done:
        return text
    out.extend(lines[done:])
    return "\n".join(out)


def load(text: str, display: str) -> Any:
    """The single document of a YAML file (``None`` for an empty one)."""
    documents = load_all(text, display)
    if len(documents) > 1:
        raise InputFileError(display, f"invalid YAML: {len(documents)} documents, expected one")
    return documents[0] if documents else None


def _measure(value: Any, memo: dict[int, tuple[int, int]], level: int) -> tuple[int, int]:
    """(expanded node count, depth) of ``value``, each shared object measured once."""
    if not isinstance(value, (dict, list)):
        return 1, 0
    if level > MAX_DEPTH:
        return 1, MAX_DEPTH + 1
    known = memo.get(id(value))
    if known is not None:
        return known
    children = value.values() if isinstance(value, dict) else value
    size, depth = 1, 0
    for child in children:
        child_size, child_depth = _measure(child, memo, level + 1)
        size += child_size
        depth = max(depth, child_depth + 1)
        if size > MAX_EXPANDED:
            break
    memo[id(value)] = (size, depth)
    return size, depth
