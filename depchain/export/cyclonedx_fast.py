"""CycloneDX documents of any size: cyclonedx-python-lib's model written out and checked
in linear time, with the library's own output, byte for byte.

The library stays the model (``Bom``, its components, its serialisation metadata) and its
bundled schemas stay the reference. What its outputters do around the model is done here
without the paths that grow faster than the document:

- ``Bom.validate()`` (which the outputters call, and which the library deprecates) finds
  a component's dependency entry by searching every entry, once per component:
  quadratic. :func:`check` makes the same checks (register a missing entry, refuse an
  unknown reference, a licence expression beside other licences; the same warning) with
  an index;
- ``BomRefDiscriminator`` looks each bom-ref up in a list of those seen: quadratic.
  :class:`_Discriminator` is the library's class with that list made a set (a subclass:
  its context manager, its reset, its unique values are the library's);
- the JSON outputter renders each object through py-serializable's encoder (every
  property's view and inclusion rules, names and helpers worked out again on every
  object) into a string, parses it back, and merges the dependency graph into new
  ``Dependency`` sets that it sorts. :func:`to_json` reads the same py-serializable
  metadata once per class and view, applies the same rules and the same helpers, and
  writes the merged graph in the order those sets give it; the document is streamed
  as ``json.dumps(..., indent=2)`` would write it;
- the XML outputter builds an element tree (``Bom.as_xml``: every property's view and
  inclusion rules worked out again on every object), then pretty-prints it by writing
  it out, parsing it into a minidom document and writing that again (three copies of
  the document in memory). :func:`to_xml` reads py-serializable's XML metadata once
  per class and view and writes what ``toprettyxml`` would from that tree, from the
  model, without making it (the elements the library's helpers make are written as
  they come); anything it is not sure of (text beside elements, a character XML
  cannot hold, a name outside the namespace) goes the library's own way, the tree
  pretty-printed, else written, parsed and written again.

Nothing here replaces or patches a library function: the model objects are the ones
the library made, read through their public properties and the class metadata
py-serializable records. tests/export/test_cyclonedx_scale.py compares every output
with the library's outputters.

Validation (:func:`validate_json`) runs the library's bundled JSON schema files (the
strict schema of each version, with the SPDX, JSF and cryptography definitions it
refers to) with jsonschema-rs: 10,000 components in a few hundredths of a second
where jsonschema took seconds (``uniqueItems`` compares every pair). The URI and IRI
formats keep depchain's check (no blank, no character RFC 3987 forbids outright: a
VCS address such as ``ssh://git@host:org/repo.git`` is a reference the readers of an
SBOM take, where a full RFC 3986 parser refuses its port), e-mail addresses
jsonschema's (an ``@``); every other rule and format is the schema's, as jsonschema-rs
implements Draft 7.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

from cyclonedx.contrib.bom.utils import BomRefDiscriminator

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion

_SCHEMA_PREFIX = "http://cyclonedx.org/schema/"

# How a property's value is turned into JSON, as py-serializable's encoder decides it.
_AS_IS, _HELPER, _CUSTOM, _ARRAY, _ENUM, _TEXT, _OBJECT = range(7)


def check(bom: Bom) -> None:
    """``Bom.validate()`` of cyclonedx-python-lib 11, in linear time: every component
    (the described one, the top-level ones) and service gets a dependency entry if it
    has none; a dependency naming what the document does not hold, or a licence
    expression beside other licences, raises the library's exception; a described
    component without dependencies while others exist warns as the library does."""
    from cyclonedx.exception.model import (
        LicenseExpressionAlongWithOthersException,
        UnknownComponentDependencyException,
    )
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.license import LicenseExpression

    # a BomRef equals another of the same value, or itself when it has none
    values: set[str] = set()
    same: set[int] = set()
    for d in bom.dependencies:
        same.add(id(d.ref))
        if d.ref.value is not None:
            values.add(d.ref.value)
    root = bom.metadata.component
    for target in chain([root] if root else [], bom.components, bom.services):
        ref = target.bom_ref
        if id(ref) in same or (ref.value is not None and ref.value in values):
            continue
        bom.dependencies.add(Dependency(ref=ref, dependencies=[]))
        same.add(id(ref))
        if ref.value is not None:
            values.add(ref.value)

    known = {c.bom_ref for c in _all_components(bom)} | {s.bom_ref for s in bom.services}
    named = set(
        chain(
            (d.ref for d in bom.dependencies),
            chain.from_iterable(d.dependencies_as_bom_refs() for d in bom.dependencies),
        )
    )
    unknown = named - known
    if unknown:
        raise UnknownComponentDependencyException(
            "One or more Components have Dependency references to Components/Services that "
            f"are not known in this BOM. They are: {unknown}"
        )
    if (
        root
        and len(bom.components) > 0
        and not any(d.ref == root.bom_ref and len(d.dependencies) > 0 for d in bom.dependencies)
    ):
        warnings.warn(
            f"The Component this BOM is describing {root.purl} has no defined dependencies "
            "which means the Dependency Graph is incomplete - you should add direct "
            'dependencies to this "root" Component to complete the Dependency Graph data.',
            category=UserWarning,
            stacklevel=2,
        )
    for elem in chain([bom.metadata], _all_components(bom), bom.services):
        licenses = elem.licenses
        if len(licenses) > 1 and any(isinstance(li, LicenseExpression) for li in licenses):
            raise LicenseExpressionAlongWithOthersException(
                f"Found LicenseExpression along with others licenses in: {elem!r}"
            )


def _all_components(bom: Bom) -> Iterator[Any]:
    """The described component and every component, each followed by those nested in
    it: what ``Bom._get_all_components`` yields, without putting each into a set (a
    component's hash is a tuple of all its fields: 30 us, three times per component)."""
    stack = list(reversed(bom.components))
    if bom.metadata.component:
        stack.append(bom.metadata.component)
    while stack:
        component = stack.pop()
        yield component
        stack.extend(reversed(component.components))


def _discriminator(bom: Bom) -> Any:
    """The library's ``BomRefDiscriminator`` for ``bom`` (the bom-refs of the
    components, services and vulnerabilities, in the order ``from_bom`` takes them when
    no component nests another), remembering the values it has seen in a set instead
    of a list: the same values, replacements and reset."""
    return _Discriminator(
        chain(
            (c.bom_ref for c in _all_components(bom)),
            (s.bom_ref for s in bom.services),
            (v.bom_ref for v in bom.vulnerabilities),
        )
    )


class _Discriminator(BomRefDiscriminator):
    def discriminate(self) -> None:
        known: set[str] = set()
        for bomref, _ in self._bomrefs:
            value = bomref.value
            if value is None or value in known:
                value = self._make_unique()
                bomref.value = value
            known.add(value)


class _Plan:
    """One property of a class as py-serializable's JSON encoder writes it in one view:
    the attribute, the key, how the value is converted, and when it is left out."""

    __slots__ = ("attr", "fmt", "in_view", "info", "is_array", "key", "kind", "none", "none_ok")

    def __init__(
        self, attr: str, key: str, kind: int, info: Any, in_view: bool, none_ok: bool
    ) -> None:
        self.attr = attr
        self.key = key
        self.kind = kind
        self.info = info
        self.in_view = in_view
        self.none_ok = none_ok
        self.is_array = bool(info.is_array)
        self.none = None
        self.fmt = info.string_format


def _plans(cls: type, view: Any) -> list[_Plan]:
    """What ``_SerializableJsonEncoder.default`` of py-serializable 2 works out for each
    property of ``cls`` on every object, worked out once."""
    from py_serializable import ObjectMetadataLibrary, SerializationType
    from py_serializable.formatters import BaseNameFormatter, CurrentFormatter

    props = ObjectMetadataLibrary.klass_property_mappings.get(
        f"{cls.__module__}.{cls.__qualname__}", {}
    )
    out = []
    for attr, info in props.items():
        # _allow_property_for_view, split into its two questions
        in_view = (not info.views or view in info.views) if view else not info.views
        if not info.include_none:
            none_ok = False
        elif info.include_none_views:
            none_ok = any(v == view for v, _ in info.include_none_views)
        else:
            none_ok = in_view
        if not in_view and not none_ok:
            continue
        key = BaseNameFormatter.decode_handle_python_builtins_and_keywords(name=attr)
        custom = info.custom_names.get(SerializationType.JSON)
        if custom:
            key = str(custom)
        if CurrentFormatter.formatter:
            key = CurrentFormatter.formatter.encode(property_name=key)
        if info.custom_type:
            kind = _HELPER if info.is_helper_type() else _CUSTOM
        elif info.is_array:
            kind = _ARRAY
        elif info.is_enum:
            kind = _ENUM
        elif not info.is_primitive_type():
            concrete = info.concrete_type
            known = f"{concrete.__module__}.{concrete.__name__}"
            kind = _OBJECT if known in ObjectMetadataLibrary.klass_mappings else _TEXT
        else:
            kind = _AS_IS
        plan = _Plan(attr, key, kind, info, in_view, none_ok)
        plan.none = info.get_none_value_for_view(view)
        out.append(plan)
    return out


class _Encoder:
    """py-serializable's JSON encoder for one view, with each class's plan kept."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.plans: dict[type, list[_Plan]] = {}

    def default(self, o: Any, override: dict[str, Any] | None = None) -> Any:
        if isinstance(o, Enum):
            return o.value
        if isinstance(o, (list, set)):
            return list(o)
        cls = o.__class__
        plans = self.plans.get(cls)
        if plans is None:
            plans = self.plans[cls] = _plans(cls, self.view)
        view = self.view
        d: dict[str, Any] = {}
        for p in plans:
            v = getattr(o, p.attr)
            if v is None or (p.is_array and len(v) < 1):
                if not p.none_ok:
                    continue
            elif not p.in_view:
                continue
            kind = p.kind
            if override is not None and p.attr in override:
                v = override[p.attr]
            elif kind == _HELPER:
                v = p.info.custom_type.json_normalize(v, view=view, prop_info=p.info, ctx=cls)
            elif kind == _CUSTOM:
                v = p.info.custom_type(v)
            elif kind == _ARRAY:
                v = list(v) if len(v) > 0 else None
            elif kind == _ENUM:
                v = str(v.value)
            elif kind in (_TEXT, _OBJECT):
                if isinstance(v, Decimal):
                    v = float(f"{v:{p.fmt}}") if p.fmt else float(v)
                elif kind == _TEXT:
                    v = f"{v:{p.fmt}}" if p.fmt else str(v)
            if p.key == ".":
                return v
            # the encoder asks again, of the converted value
            if v is None or (p.is_array and len(v) < 1):
                if p.none_ok:
                    d[p.key] = v if v is not None else p.none
            elif p.in_view:
                d[p.key] = v
        return d


def _flat_dependencies(bom: Bom, encoder: _Encoder) -> list[dict[str, Any]] | None:
    """``Bom.dependencies`` as the JSON outputter writes it, in linear time: merged
    and flattened as ``BomDependencyGraphFlatMerger`` does (one entry per bom-ref, with
    every reference any entry for it makes, nested ones lifted), each entry and its
    ``dependsOn`` in the order the library's sorted sets give them. None when the
    graph holds a reference without a value, whose order and identity only the
    library's own objects settle."""
    from cyclonedx.model.dependency import Dependency

    flat: dict[str, list[str]] = {}
    todo = list(bom.dependencies)
    seen: set[int] = set()
    while todo:
        dep = todo.pop()
        if id(dep) in seen:
            continue
        seen.add(id(dep))
        if dep.ref.value is None:
            return None
        targets = flat.setdefault(dep.ref.value, [])
        if dep.dependencies:
            for child in dep.dependencies:
                if child.ref.value is None:
                    return None
                targets.append(child.ref.value)
            todo.extend(dep.dependencies)
    plans = encoder.plans.get(Dependency)
    if plans is None:
        plans = encoder.plans[Dependency] = _plans(Dependency, encoder.view)
    keys = {p.attr: p for p in plans}
    if set(keys) != {"ref", "dependencies"} or keys["ref"].kind != _HELPER:
        return None  # not the Dependency this was written for: the library's way
    ref, depends_on = keys["ref"], keys["dependencies"]
    if not (ref.in_view and depends_on.in_view and depends_on.kind == _HELPER):
        return None
    out = []
    for value in sorted(flat):
        entry: dict[str, Any] = {}
        for p in plans:
            if p is ref:
                entry[p.key] = value
            else:
                targets = sorted(set(flat[value]))
                if targets:
                    entry[p.key] = targets
                elif p.none_ok:
                    entry[p.key] = p.none
        out.append(entry)
    return out


def to_json(bom: Bom, schema_version: SchemaVersion, indent: int = 2, end: str = "") -> str:
    """What ``make_outputter(bom, OutputFormat.JSON, schema_version)
    .output_as_string(indent=indent)`` returns, then ``end``, in time and memory linear
    in the document (the model is checked and its bom-refs made unique as the outputter
    does, and restored afterwards)."""
    from cyclonedx.contrib.bom.utils import BomDependencyGraphFlatMerger
    from cyclonedx.output.json import BY_SCHEMA_VERSION
    from cyclonedx.schema.schema import SCHEMA_VERSIONS

    outputter = BY_SCHEMA_VERSION[schema_version](bom)
    core = {
        "$schema": outputter._get_schema_uri(),
        "bomFormat": "CycloneDX",
        "specVersion": schema_version.to_version(),
    }
    encoder = _Encoder(SCHEMA_VERSIONS.get(schema_version))
    check(bom)
    out = io.StringIO()
    with _discriminator(bom):
        dependencies = _flat_dependencies(bom, encoder)
        if dependencies is None:
            with BomDependencyGraphFlatMerger(bom):
                top = encoder.default(bom)
        else:
            top = encoder.default(bom, override={"dependencies": dependencies})
        top.update(core)
        # json.dumps(top, indent=indent) without its list of every piece
        out.writelines(json.JSONEncoder(indent=indent, default=encoder.default).iterencode(top))
    out.write(end)
    return out.getvalue()


# Characters XML 1.0 cannot hold, which the library's parse of its own output refuses.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _NotPlain(Exception):
    """An element tree :func:`_pretty` does not write: the library's path writes it."""


# What _xml_attr or _xml_data may change or refuse: every character but those written
# as they are (tab, line feed, the printable ones but & < > ").
_SPECIAL = re.compile(
    "[^\t\n\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _xml_attr(text: str) -> str:
    """``text`` escaped as minidom writes an attribute value."""
    if not _SPECIAL.search(text):
        return text
    if _NOT_XML.search(text):
        raise _NotPlain(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").replace(">", "&gt;")
    )


def _xml_data(text: str) -> str:
    """``text`` as minidom writes it after parsing it: a carriage return (and CR LF) is
    read as a line feed."""
    if not _SPECIAL.search(text):
        return text
    return _xml_attr(text.replace("\r\n", "\n").replace("\r", "\n"))


def _xml_name(name: str) -> str:
    """A name of the document's namespace as written (without it), if it is one."""
    if name.startswith("{") or "}" in name:
        raise _NotPlain(name)
    return name


def _plain_name(name: str) -> str | None:
    """:func:`_xml_name`, None for a name it refuses (refused when it is written)."""
    try:
        return _xml_name(name)
    except _NotPlain:
        return None


def _pretty_element(e: Any, xmlns: str, indent: str, depth: str) -> Iterator[str]:
    """The pieces :func:`_pretty` writes for the element ``e`` at ``depth``."""
    prefix = "{" + xmlns + "}"
    cut = len(prefix)

    def name(tag: Any) -> str:
        if not isinstance(tag, str) or not tag.startswith(prefix) or "}" in tag[cut:]:
            raise _NotPlain(tag)
        return tag[cut:]

    def element(e: Any, depth: str) -> Iterator[str]:
        if e.tail:
            raise _NotPlain("tail")
        head = depth + "<" + name(e.tag)
        if depth == "":
            head += ' xmlns="' + _xml_attr(xmlns) + '"'
        for key, value in e.attrib.items():  # in the namespace too, written without it
            if not isinstance(value, str):
                raise _NotPlain(key)
            head += " " + name(key) + '="' + _xml_attr(value) + '"'
        children = list(e)
        if children:
            if e.text:
                raise _NotPlain("mixed content")
            yield head + ">\n"
            inner = depth + indent
            for child in children:
                yield from element(child, inner)
            yield depth + "</" + name(e.tag) + ">\n"
        elif e.text:
            if not isinstance(e.text, str):
                raise _NotPlain(e.text)
            yield head + ">" + _xml_data(e.text) + "</" + name(e.tag) + ">\n"
        else:
            yield head + "/>\n"

    return element(e, depth)


def _pretty(root: Any, xmlns: str, indent: str) -> Iterator[str]:
    """The pieces of ``minidom.parseString(ElementTree.tostring(root,
    default_namespace=xmlns)).toprettyxml(indent=indent)`` for a tree of elements in
    ``xmlns`` holding either text or elements, never both."""
    yield '<?xml version="1.0" ?>\n'
    yield from _pretty_element(root, xmlns, indent, "")


class _XmlPlan:
    """One property of a class as py-serializable's ``as_xml`` writes it in one view."""

    __slots__ = (
        "attr",
        "enum",
        "helper",
        "in_view",
        "info",
        "is_array",
        "key",
        "known",
        "name",
        "none",
        "none_ok",
        "primitive",
        "prop",
        "text",
        "xml_key",
        "xml_name",
        "xml_nested",
    )

    def __init__(self, prop: str, info: Any, view: Any) -> None:
        from py_serializable import ObjectMetadataLibrary, SerializationType
        from py_serializable.formatters import BaseNameFormatter, CurrentFormatter

        self.prop = prop
        self.info = info
        # _allow_property_for_view, split into its two questions
        self.in_view = (not info.views or view in info.views) if view else not info.views
        if not info.include_none:
            self.none_ok = False
        elif info.include_none_views:
            self.none_ok = any(v == view for v, _ in info.include_none_views)
        else:
            self.none_ok = self.in_view
        self.is_array = bool(info.is_array)
        self.none = info.get_none_value_for_view(view_=view)
        decoded = BaseNameFormatter.decode_handle_python_builtins_and_keywords(name=prop)
        # the name as written for a None value (not formatted); the name otherwise
        self.name = info.custom_names.get(SerializationType.XML, decoded)
        self.key = self.name
        if CurrentFormatter.formatter and self.key != ".":
            self.key = CurrentFormatter.formatter.encode(property_name=self.key)
        self.xml_name = _plain_name(self.name)
        self.xml_key = _plain_name(self.key)
        array = info.xml_array_config
        self.xml_nested = _plain_name(array[1]) if array else None
        self.attr = bool(info.is_xml_attribute)
        self.helper = bool(info.custom_type) and info.is_helper_type()
        self.enum = bool(info.is_enum)
        self.primitive = info.is_primitive_type()
        concrete = info.concrete_type
        self.known = (
            not self.primitive
            and f"{concrete.__module__}.{concrete.__name__}" in ObjectMetadataLibrary.klass_mappings
        )
        self.text = info.xml_string_config


class _XmlClass:
    """What ``as_xml`` works out for a class on every object, worked out once: its
    properties in ``xml_sequence`` order, and which instance attributes are written as
    XML attributes (found as ``as_xml`` finds them, in each object's ``__dict__``)."""

    def __init__(self, cls: type, view: Any) -> None:
        from py_serializable import ObjectMetadataLibrary
        from py_serializable.formatters import CurrentFormatter

        props = ObjectMetadataLibrary.klass_property_mappings.get(
            f"{cls.__module__}.{cls.__qualname__}", {}
        )
        ordered = sorted(props.items(), key=lambda i: i[1].xml_sequence)
        self.plans = [_XmlPlan(k, v, view) for k, v in ordered]
        self.elements = [p for p in self.plans if not p.attr]
        self.has_attributes = any(p.attr for p in self.plans)
        self.name = _xml_name(str(CurrentFormatter.formatter.encode(cls.__name__)))
        self.slots: dict[str, _XmlPlan | None] = {}

    def slot(self, k: str) -> _XmlPlan | None:
        """The plan of the instance attribute ``k`` if it is written as an attribute."""
        from py_serializable.formatters import BaseNameFormatter

        new_key = k[1:]
        if new_key.startswith("_") or "__" in new_key:
            return None
        name = BaseNameFormatter.decode_handle_python_builtins_and_keywords(name=new_key)
        for plan in self.plans:
            if plan.prop == name:
                return plan if plan.attr else None
        return None


def _as_xml_helpers(view: Any) -> frozenset[type]:
    """The library's helpers whose ``xml_normalize`` in ``view`` is the object's own
    ``as_xml`` (element name and namespace as given), which the writer writes itself:
    the component evidence's, but in CycloneDX 1.5 (where it drops identities)."""
    try:
        from cyclonedx.model.component_evidence import (
            _ComponentEvidenceSerializationHelper as evidence,
        )
        from cyclonedx.schema.schema import SchemaVersion1Dot5
    except ImportError:  # pragma: no cover - another release of the library
        return frozenset()
    return frozenset() if view is SchemaVersion1Dot5 else frozenset({evidence})


class _XmlWriter:
    """The pieces of ``_pretty(o.as_xml(view, as_string=False, xmlns=xmlns), xmlns,
    indent)`` for a py-serializable object, written from the model as ``as_xml`` of
    py-serializable 2 reads it, without making the element tree (the elements the
    library's helpers make are written as :func:`_pretty` writes them)."""

    def __init__(self, view: Any, xmlns: str, indent: str) -> None:
        from py_serializable import XmlArraySerializationType, _xs_string_mod_apply

        self.view = view
        self.xmlns = xmlns
        self.indent = indent
        self.classes: dict[type, _XmlClass] = {}
        self.out: list[str] = []
        self.mod = _xs_string_mod_apply
        self.nested = XmlArraySerializationType.NESTED
        self.as_is = _as_xml_helpers(view)

    def leaf(self, name: str, text: str, depth: str) -> None:
        if text:
            self.out.append(depth + "<" + name + ">" + _xml_data(text) + "</" + name + ">\n")
        else:
            self.out.append(depth + "<" + name + "/>\n")

    def obj(self, o: Any, name: str | None, depth: str) -> None:
        view, xmlns, mod, out = self.view, self.xmlns, self.mod, self.out
        cls = o.__class__
        known = self.classes.get(cls)
        if known is None:
            known = self.classes[cls] = _XmlClass(cls, view)
        if name is None:
            name = known.name
        head = depth + "<" + name
        if depth == "":
            head += ' xmlns="' + _xml_attr(xmlns) + '"'
        if known.has_attributes:
            slots = known.slots
            for k, v in o.__dict__.items():
                if k in slots:
                    p = slots[k]
                else:
                    p = slots[k] = known.slot(k)
                if p is None:
                    continue
                if v is None or (p.is_array and len(v) < 1):
                    if not p.none_ok:
                        continue
                elif not p.in_view:
                    continue
                info = p.info
                if p.helper:
                    v = info.custom_type.xml_normalize(
                        v, view=view, element_name=p.key, xmlns=xmlns, prop_info=info, ctx=cls
                    )
                elif p.enum:
                    v = v.value
                if v is None:
                    v = p.none
                if v is None:
                    continue
                if p.xml_key is None:
                    raise _NotPlain(p.key)
                value = str(v) if p.text is None else mod(str(v), p.text)
                head += " " + p.xml_key + '="' + _xml_attr(value) + '"'
        slot = len(out)
        out.append("")
        text: str | None = None
        inner = depth + self.indent
        for p in known.elements:
            v = getattr(o, p.prop)
            if v is None or (p.is_array and len(v) < 1):
                if not p.none_ok:
                    continue
            elif not p.in_view:
                continue
            if v is None:
                v = p.none
            if v is None:
                if p.xml_name is None:
                    raise _NotPlain(p.name)
                out.append(inner + "<" + p.xml_name + "/>\n")
                continue
            info = p.info
            if p.key == ".":
                text = str(v) if p.text is None else mod(str(v), p.text)
                continue
            key = p.xml_key
            if key is None:
                raise _NotPlain(p.key)
            if p.is_array and info.xml_array_config:
                array_type = info.xml_array_config[0]
                nested_key = p.xml_nested
                if nested_key is None:
                    raise _NotPlain(info.xml_array_config[1])
                nested = bool(array_type) and array_type == self.nested
                at = inner + self.indent if nested else inner
                start = len(out)
                if nested:
                    out.append(inner + "<" + key + ">\n")
                for j in v:
                    if not p.primitive and not p.enum:
                        self.obj(j, nested_key, at)
                    elif p.enum:
                        self.leaf(
                            nested_key,
                            (str(j.value) if p.text is None else mod(str(j.value), p.text)),
                            at,
                        )
                    elif info.concrete_type in (float, int):
                        self.leaf(nested_key, str(j), at)
                    elif info.concrete_type is bool:
                        self.leaf(nested_key, str(j).lower(), at)
                    else:
                        self.leaf(
                            nested_key, (str(j) if p.text is None else mod(str(j), p.text)), at
                        )
                if nested:
                    if len(out) == start + 1:
                        out[start] = inner + "<" + key + "/>\n"
                    else:
                        out.append(inner + "</" + key + ">\n")
            elif info.custom_type:
                if info.custom_type in self.as_is:
                    self.obj(v, key, inner)
                elif p.helper:
                    v_ser = info.custom_type.xml_normalize(
                        v,
                        view=view,
                        element_name="{" + xmlns + "}" + key,
                        xmlns=xmlns,
                        prop_info=info,
                        ctx=cls,
                    )
                    if v_ser is None:
                        pass
                    elif isinstance(v_ser, Element):
                        out.extend(_pretty_element(v_ser, xmlns, self.indent, inner))
                    else:
                        self.leaf(
                            key, (str(v_ser) if p.text is None else mod(str(v_ser), p.text)), inner
                        )
                else:
                    self.leaf(key, mod(str(info.custom_type(v)), p.text), inner)
            elif p.enum:
                self.leaf(
                    key, (str(v.value) if p.text is None else mod(str(v.value), p.text)), inner
                )
            elif not p.primitive:
                if p.known:
                    self.obj(v, key, inner)
                elif info.string_format:
                    self.leaf(key, mod(f"{v:{info.string_format}}", p.text), inner)
                else:
                    self.leaf(key, (str(v) if p.text is None else mod(str(v), p.text)), inner)
            elif info.concrete_type in (float, int):
                self.leaf(key, str(v), inner)
            elif info.concrete_type is bool:
                self.leaf(key, str(v).lower(), inner)
            else:
                self.leaf(key, (str(v) if p.text is None else mod(str(v), p.text)), inner)
        if len(out) > slot + 1:
            if text:
                raise _NotPlain("mixed content")
            out[slot] = head + ">\n"
            out.append(depth + "</" + name + ">\n")
        elif text:
            out[slot] = head + ">" + _xml_data(text) + "</" + name + ">\n"
        else:
            out[slot] = head + "/>\n"


def to_xml(bom: Bom, schema_version: SchemaVersion, indent: int = 2) -> str:
    """What ``make_outputter(bom, OutputFormat.XML, schema_version)
    .output_as_string(indent=indent)`` returns: the library's element tree
    (``Bom.as_xml``) pretty-printed, written from the model by :class:`_XmlWriter`
    without making the tree, or writing, parsing and writing it again."""
    from xml.dom.minidom import parseString
    from xml.etree.ElementTree import tostring

    from cyclonedx.schema.schema import SCHEMA_VERSIONS

    view = SCHEMA_VERSIONS[schema_version]
    xmlns = f"http://cyclonedx.org/schema/bom/{schema_version.to_version()}"
    spaces = " " * indent
    check(bom)
    with _discriminator(bom):
        writer = _XmlWriter(view, xmlns, spaces)
        try:
            writer.obj(bom, None, "")
        except _NotPlain:
            pass
        else:
            return '<?xml version="1.0" ?>\n' + "".join(writer.out)
        del writer
        tree = bom.as_xml(view, as_string=False, xmlns=xmlns)  # type: ignore[attr-defined]
    _xml_safe(tree)
    out = io.StringIO()
    try:
        out.writelines(_pretty(tree, xmlns, spaces))
    except _NotPlain:
        del out
    else:
        del tree  # before the text is joined
        return out.getvalue()
    # the library's own path (cyclonedx.output.xml.Xml): write, parse, write again
    text = '<?xml version="1.0" ?>\n' + tostring(
        tree, method="xml", default_namespace=xmlns, encoding="unicode", xml_declaration=False
    )
    return str(parseString(text).toprettyxml(indent=spaces))  # our own text, as the library


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What XML 1.0 cannot hold at all, escaped or not: C0 controls but tab and line
breaks, lone surrogates, U+FFFE and U+FFFF."""


def _xml_safe(tree: Any) -> None:
    """Every text and attribute of ``tree`` with what XML cannot hold shown as an escape
    (``\\x01``), as the terminal shows it: a name read from a hostile file must not make
    the whole document unwritable (the library's own writer fails on it)."""

    def fix(text: str) -> str:
        return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], text)

    for element in tree.iter():
        if element.text and _NOT_XML.search(element.text):
            element.text = fix(element.text)
        if element.tail and _NOT_XML.search(element.tail):
            element.tail = fix(element.tail)
        for key, value in list(element.attrib.items()):
            if _NOT_XML.search(value):
                element.attrib[key] = fix(value)


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_URI_REFERENCE = re.compile(r"^[^\s<>\"{}|\\^`]*$")


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: bool(pattern.match(value))


def _no_retrieval(uri: str) -> Any:
    raise ValueError(f"{uri}: not among the schemas cyclonedx-python-lib bundles")


@lru_cache(maxsize=8)
def _json_schema_validator(spec_version: str) -> Any:
    """jsonschema-rs running the library's bundled strict schema of ``spec_version``
    (``cyclonedx.schema._res``, as ``JsonStrictValidator`` loads it), the documents it
    refers to registered under the URIs the library gives them; nothing fetched."""
    import jsonschema_rs
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON

    def load(path: str) -> Any:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    schema_file = BOM_JSON_STRICT.get(SchemaVersion.from_version(spec_version))
    if schema_file is None:
        raise ValueError(f"no JSON schema for CycloneDX {spec_version}")
    registry = jsonschema_rs.Registry(
        [
            (f"{_SCHEMA_PREFIX}spdx.SNAPSHOT.schema.json", load(SPDX_JSON)),
            (f"{_SCHEMA_PREFIX}cryptography-defs.SNAPSHOT.schema.json", load(CRYPTOGRAPHY_DEFS)),
            (f"{_SCHEMA_PREFIX}jsf-0.82.SNAPSHOT.schema.json", load(JSF)),
        ],
        retriever=_no_retrieval,
    )
    return jsonschema_rs.Draft7Validator(
        load(schema_file),
        registry=registry,
        retriever=_no_retrieval,
        validate_formats=True,
        formats={
            "uri": _matches(_URI),
            "iri": _matches(_URI),
            "uri-reference": _matches(_URI_REFERENCE),
            "iri-reference": _matches(_URI_REFERENCE),
            "email": lambda value: "@" in value,
            "idn-email": lambda value: "@" in value,
        },
    )


def validate_json(document: Any, spec_version: str) -> tuple[str, str] | None:
    """The first schema error of a parsed CycloneDX JSON document, as (the path of the
    value, the message), or None when it is valid."""
    validator = _json_schema_validator(spec_version)
    if validator.is_valid(document):
        return None
    errors: Iterable[Any] = validator.iter_errors(document)
    first = next(iter(errors), None)
    if first is None:  # pragma: no cover - is_valid said otherwise
        return ("", "invalid")
    return ("/".join(str(p) for p in first.instance_path), str(first.message))
