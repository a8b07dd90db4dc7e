from __future__ import annotations

import pytest

from depchain.graph import DependencyGraph
from depchain.ids import pypi_component
from depchain.model import Dependency, DependencyKind, Evidence, Scope

A = Evidence("a.txt", 1, "t")
B = Evidence("b/b.txt", 2, "t")


def edge(
    src: str, dst: str, kind: DependencyKind, ev: Evidence = A, scope: Scope = Scope.REQUIRED
) -> Dependency:
    return Dependency(src, dst, kind, scope, "requirement", evidence=(ev,))


def graph_with(*names_versions: tuple[str, str | None, Evidence]) -> DependencyGraph:
    g = DependencyGraph()
    for name, version, ev in names_versions:
        g.add_node(pypi_component(name, version, ev))
    return g


def test_same_pair_keeps_one_edge_per_kind_and_merges_evidence() -> None:
    g = graph_with(("app", "1", A), ("lib", "2", A))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/lib@2", DependencyKind.BUILD))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/lib@2", DependencyKind.DYNAMIC))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/lib@2", DependencyKind.DYNAMIC, B))
    deps = g.dependencies()
    assert [d.kind for d in deps] == [DependencyKind.BUILD, DependencyKind.DYNAMIC]
    assert deps[1].evidence == (A, B)
    assert len(g.dependencies(DependencyKind.BUILD)) == 1
    assert list(g.view([DependencyKind.BUILD]).edges()) == [("pkg:pypi/app@1", "pkg:pypi/lib@2")]


def test_edges_need_known_nodes_and_self_loops_are_dropped() -> None:
    g = graph_with(("app", "1", A))
    with pytest.raises(KeyError):
        g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/ghost@1", DependencyKind.DYNAMIC))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/app@1", DependencyKind.DYNAMIC))
    assert g.dependencies() == []


def test_node_merge_unions_evidence() -> None:
    g = graph_with(("lib", "2", A), ("lib", "2", B))
    (lib,) = g.components()
    assert lib.evidence == (A, B)


def test_unversioned_requirement_joins_its_single_pin() -> None:
    g = graph_with(("app", "1", A), ("requests", None, A), ("requests", "2.32.3", B))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/requests", DependencyKind.DYNAMIC))
    g.resolve_unversioned()
    assert "pkg:pypi/requests" not in g
    assert g.canonical("pkg:pypi/requests") == "pkg:pypi/requests@2.32.3"
    (dep,) = g.dependencies()
    assert dep.target == "pkg:pypi/requests@2.32.3"
    assert g.why("pkg:pypi/requests@2.32.3") == [["pkg:pypi/app@1", "pkg:pypi/requests@2.32.3"]]


def test_ambiguous_pins_are_left_apart_unless_one_shares_the_folder() -> None:
    other = Evidence("c/c.txt", 1, "t")
    g = graph_with(
        ("six", None, other), ("six", "1.0", Evidence("d/a.txt", 1, "t")), ("six", "2.0", B)
    )
    g.resolve_unversioned()
    assert "pkg:pypi/six" in g  # two pins, neither in folder c/ nor above it
    g1 = graph_with(("six", None, other), ("six", "1.0", A), ("six", "2.0", B))
    g1.resolve_unversioned()
    assert g1.canonical("pkg:pypi/six") == "pkg:pypi/six@1.0"  # the top folder's pin
    g2 = graph_with(
        ("six", None, Evidence("b/req.in", 1, "t")), ("six", "1.0", A), ("six", "2.0", B)
    )
    g2.resolve_unversioned()
    assert "pkg:pypi/six" not in g2 and g2.canonical("pkg:pypi/six") == "pkg:pypi/six@2.0"


def test_copy_keeps_model_objects() -> None:
    g = graph_with(("app", "1", A), ("lib", "2", A))
    g.add_dependency(edge("pkg:pypi/app@1", "pkg:pypi/lib@2", DependencyKind.STATIC))
    c = g.copy()
    assert c.dependencies() == g.dependencies() and c.components() == g.components()


@pytest.mark.parametrize(
    ("ptype", "name", "version"),
    [
        ("pypi", "Requests", "2.32.3"),
        ("pypi", "zope.interface", "6.0"),
        ("pypi", "a_b", "1!2.0"),
        ("pypi", "x", "1.0+local.7"),
        ("cargo", "serde", "1.0.210"),
        ("golang", "x", "v0.0.0-20190308221718-c2843e01d9a2"),
        ("deb", "libssl3", "3.0.15-1~deb12u1"),
        ("generic", "Some Lib", "1.0"),
        ("pypi", "x", None),
    ],
)
def test_plain_purls_are_written_as_the_library_writes_them(
    ptype: str, name: str, version: str | None
) -> None:
    from packageurl import PackageURL

    from depchain.ids import normalize, purl

    shown = normalize(name) if ptype == "pypi" else name
    assert (
        purl(ptype, name, version)
        == PackageURL(type=ptype, name=shown, version=version).to_string()
    )


def test_each_use_joins_the_pin_that_covers_it_when_no_pin_covers_all() -> None:
    """pallets/flask: the project's ``pytest`` (pyproject.toml, locked by uv.lock) and
    the examples' ``pytest`` (examples/tutorial/pyproject.toml, locked by nothing) were
    one node, so neither joined a pin and the project showed ``pytest *`` beside
    ``pytest 9.0.2``; pydantic's ``annotated-types>=0.6.0`` likewise, for a pin in
    .github/pyodide/ of another version."""
    from depchain.model import Role

    root = Evidence("pyproject.toml", 61, "pyproject")
    example = Evidence("examples/t/pyproject.toml", 17, "pyproject", Role.EXAMPLE)
    g = graph_with(
        ("flask", "3", root),
        ("flaskr", "1", example),
        ("pytest", None, root),
        ("pytest", None, example),
        ("pytest", "9.0.2", Evidence("uv.lock", 1044, "uv-lock")),
    )
    g.add_dependency(edge("pkg:pypi/flask@3", "pkg:pypi/pytest", DependencyKind.BUILD, root))
    g.add_dependency(edge("pkg:pypi/flaskr@1", "pkg:pypi/pytest", DependencyKind.DYNAMIC, example))
    g.resolve_unversioned()
    assert [d.target for d in g.dependencies_of("pkg:pypi/flask@3")] == ["pkg:pypi/pytest@9.0.2"]
    assert [d.target for d in g.dependencies_of("pkg:pypi/flaskr@1")] == ["pkg:pypi/pytest"]
    assert g.node("pkg:pypi/pytest").evidence == (example,)
    assert root in g.node("pkg:pypi/pytest@9.0.2").evidence
    # when every edge finds its pin, the name alone goes
    g2 = graph_with(("flask", "3", root), ("pytest", None, root), ("pytest", None, example))
    g2.add_node(pypi_component("pytest", "9.0.2", Evidence("uv.lock", 1, "uv-lock")))
    g2.add_node(
        pypi_component("pytest", "8.0", Evidence("examples/t/pylock.toml", 1, "p", Role.EXAMPLE))
    )
    g2.add_node(pypi_component("flaskr", "1", example))
    g2.add_dependency(edge("pkg:pypi/flask@3", "pkg:pypi/pytest", DependencyKind.BUILD, root))
    g2.add_dependency(edge("pkg:pypi/flaskr@1", "pkg:pypi/pytest", DependencyKind.DYNAMIC, example))
    g2.resolve_unversioned()
    assert "pkg:pypi/pytest" not in g2
    assert [d.target for d in g2.dependencies_of("pkg:pypi/flaskr@1")] == ["pkg:pypi/pytest@8.0"]


def test_a_direct_reference_joins_the_lock_entry_of_the_same_commit() -> None:
    """django/djangoproject.com: ``django-push @ git+...@22fda99`` (pyproject.toml) and
    uv.lock's django-push 2.0 from that commit stayed two components."""
    from depchain.model import Source, SourceKind

    git = Source(SourceKind.VCS, url="git+https://github.com/b/django-push.git", commit="2" * 40)
    other = Source(SourceKind.VCS, url="git+https://github.com/b/django-push.git", commit="3" * 40)
    g = DependencyGraph()
    app = pypi_component("app", "1", A)
    g.add_node(app)
    wanted = pypi_component("django-push", None, A, sources=(git,))
    g.add_node(wanted)
    locked = pypi_component(
        "django-push", "2.0", Evidence("uv.lock", 235, "uv-lock"), sources=(git,)
    )
    g.add_node(locked)
    g.add_node(pypi_component("django-push", "2.1", Evidence("b.lock", 1, "t"), sources=(other,)))
    g.add_dependency(edge(app.id, wanted.id, DependencyKind.DYNAMIC))
    assert "?" in wanted.id and "?" in locked.id
    g.resolve_unversioned()
    assert wanted.id not in g
    assert [d.target for d in g.dependencies_of(app.id)] == [locked.id]
