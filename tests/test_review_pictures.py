"""Regressions found reviewing the pictures, `depchain why` and the Markdown diagram on
hostile and large inputs (issue 14)."""

from __future__ import annotations

import time
from pathlib import Path

from depchain import picture
from depchain.render import markdown, mermaid
from depchain.scanner import scan
from depchain.why import explain


def _lock(folder: Path, direct: list[str], packages: dict[str, list[str]]) -> Path:
    """A project whose pyproject.toml needs ``direct`` and whose uv.lock holds
    ``packages`` (name -> what it needs)."""
    needs = "".join(f'    "{n}",\n' for n in direct)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "top"\nversion = "1.0"\ndependencies = [\n{needs}]\n'
    )
    locked = "".join(f'    {{ name = "{n}" }},\n' for n in direct)
    parts = [
        'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "top"\n'
        f'version = "1.0"\nsource = {{ editable = "." }}\ndependencies = [\n{locked}]\n'
    ]
    for name, deps in packages.items():
        listed = "".join(f'    {{ name = "{d}" }},\n' for d in deps)
        parts.append(
            f'\n[[package]]\nname = "{name}"\nversion = "1.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n'
            + (f"dependencies = [\n{listed}]\n" if deps else "")
        )
    (folder / "uv.lock").write_text("".join(parts))
    return folder


def test_why_through_a_long_chain_of_diamonds_is_fast(tmp_path: Path) -> None:
    """600 diamonds in a row (a 170 kB lock): each path is 1,200 hops long. Yen's
    algorithm ran one shortest-path search per hop per path (about 40 s here, 215 s for
    1,000 diamonds); the search backwards from the target takes a fraction of a second."""
    packages: dict[str, list[str]] = {}
    layers = 600
    for i in range(layers):
        following = [f"a{i + 1}"] if i + 1 < layers else []
        packages[f"a{i}"] = [f"b{i}", f"c{i}"]
        packages[f"b{i}"] = following
        packages[f"c{i}"] = following
    result = scan(_lock(tmp_path, ["a0"], packages))
    started = time.perf_counter()
    (answer,) = explain(result, f"b{layers - 1}", limit=20)
    assert time.perf_counter() - started < 5
    assert len(answer.chains) == 20 and answer.more and not answer.bounded
    assert all(len(chain.hops) == 2 * layers for chain in answer.chains)
    assert len({tuple(chain.nodes) for chain in answer.chains}) == 20
    for chain in answer.chains:
        assert len(set(chain.nodes)) == len(chain.nodes)
        assert all(hop.edges for hop in chain.hops)


def test_why_in_a_graph_of_cycles_is_shortest_first_and_bounded(tmp_path: Path) -> None:
    """Forty packages that all need one another: simple paths beyond counting, every
    partial path a possible dead end. Shortest first, simple, and bounded in time."""
    names = [f"x{i}" for i in range(40)]
    result = scan(_lock(tmp_path, ["x0"], {n: [m for m in names if m != n] for n in names}))
    started = time.perf_counter()
    (answer,) = explain(result, "x39", limit=5000)
    assert time.perf_counter() - started < 20
    lengths = [len(chain.hops) for chain in answer.chains]
    assert lengths == sorted(lengths) and lengths[:2] == [2, 3]
    assert answer.more
    for chain in answer.chains:
        assert len(set(chain.nodes)) == len(chain.nodes)


def _many_roots(tmp_path: Path) -> Path:
    """A lock of 700 packages nothing depends on (a lock left over, an environment),
    each needing four of 20 shared ones, beside the project's own three."""
    shared = [f"s{i}" for i in range(20)]
    packages = {f"r{i:03d}": [shared[(i + k) % 20] for k in range(4)] for i in range(700)}
    packages.update({n: [] for n in shared})
    packages.update({"d1": [], "d2": [], "d3": []})
    return _lock(tmp_path, ["d1", "d2", "d3"], packages)


def test_a_drawing_of_many_roots_still_fits_what_mermaid_draws(tmp_path: Path) -> None:
    """Cut to depth 1, 700 roots still hold 2,800 edges: Mermaid refused the chart
    ("Edge limit exceeded") and dot took its time. The nodes nearest the project are
    kept until the limits are met, and the caption says so."""
    result = scan(_many_roots(tmp_path))
    drawn = picture.build(result, limit=(picture.DRAWN_NODES, picture.DRAWN_EDGES))
    assert len(drawn.nodes) <= picture.DRAWN_NODES
    assert len(drawn.edges) <= picture.DRAWN_EDGES
    assert mermaid.render(drawn).count(" --> ") <= picture.DRAWN_EDGES
    kept = {n.label for n in drawn.nodes}
    assert {"top", "d1", "d2", "d3"} <= kept  # the project and its own first
    assert any("nearest the project drawn" in note for note in drawn.notes)


def test_markdown_counts_what_it_drew_of_the_direct_dependencies(tmp_path: Path) -> None:
    """With 700 other roots, the diagram drew 59 of them and none of the project's own
    direct dependencies, under the heading "Direct dependencies (0)"; the roots now come
    after what is depended on, and the note counts them apart."""
    result = scan(_many_roots(tmp_path))
    drawn = markdown.direct_picture(result)
    assert {"top", "d1", "d2", "d3"} <= {n.label for n in drawn.nodes}
    text = markdown.render(result)
    assert "#### Direct dependencies (" in text
    heading = next(line for line in text.splitlines() if line.startswith("#### Direct"))
    # every package a root needs directly is drawn (the project's own three first)
    assert heading == "#### Direct dependencies (24) and services (0)", heading
    assert "other roots (nothing depends on them)" in text


def test_a_wide_terminal_gives_the_scope_column_room(tmp_path: Path) -> None:
    """On 200 columns the scope/group column stayed 12 wide: a compose profile such as
    ``feature-complete`` wrapped onto a second line beside 60 empty columns."""
    from depchain.render import table

    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  worker:\n    image: busybox:1.36\n    profiles: [feature-complete]\n"
    )
    result = scan(tmp_path)
    wide = table.render(result, width=200)
    assert "feature-complete" in wide
    assert table.render(result, width=80).count("\n") >= wide.count("\n")


def test_why_of_a_name_not_found_says_what_could_not_be_read(tmp_path: Path) -> None:
    """`depchain why a` where the pyproject.toml naming ``a`` is broken said only "no
    component of that name" (exit 2, before the unreadable input was reported)."""
    import pytest

    from depchain.errors import UsageError

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["a",\n')
    with pytest.raises(UsageError, match=r"1 input could not be read: pyproject\.toml"):
        explain(scan(tmp_path), "a")


def test_markdown_service_row_says_nothing_under_the_owner_columns(tmp_path: Path) -> None:
    """The service row put 'N boundary unknown' under 'owner unknown' and 'N across the
    boundary' under 'trusted explicitly'; the boundary is said in a sentence instead."""

    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: python:3.12\n    environment:\n"
        "      PAYMENTS: https://api.stripe.com/v1\n  db:\n    image: postgres:16\n"
    )
    text = markdown.render(scan(tmp_path))
    (row,) = [line for line in text.splitlines() if line.startswith("| service |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "3 services" and cells[3:] == ["", "", ""], row
    assert "Services: 3 reached at run time; 1 across a trust boundary, 0 where" in text
