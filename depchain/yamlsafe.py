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

from typing import Any

from depchain.errors import InputFileError

MAX_EXPANDED = 1_000_000
MAX_DEPTH = 200


def load_all(text: str, display: str) -> list[Any]:
    """Every document of a YAML stream (Kubernetes manifests hold several)."""
    import yaml

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
