"""What a pyproject.toml declares of its own project: licence, authors, description,
URLs (PEP 621 and Poetry)."""

from __future__ import annotations

from pathlib import Path

import depchain
from depchain.model import Component, Contact, License


def _subject(tmp_path: Path, text: str) -> Component:
    (tmp_path / "pyproject.toml").write_text(text)
    result = depchain.scan(tmp_path / "pyproject.toml")
    node = result.graph.node(result.subject)
    assert isinstance(node, Component)
    return node


def test_pep621(tmp_path: Path) -> None:
    node = _subject(
        tmp_path,
        '[project]\nname = "demo"\nversion = "1"\nlicense = "apache-2.0 OR mit"\n'
        'description = "A  demo\\nproject"\n'
        'authors = [{name = "Ann", email = "ann@example.com"}, {email = "bob@example.com"}]\n'
        'maintainers = [{name = "Cy"}]\n'
        '[project.urls]\nHomepage = "https://example.com"\n'
        '"Bug Tracker" = "https://example.com/issues"\nbroken = "not a url"\n',
    )
    assert node.license == License(
        expression="Apache-2.0 OR MIT", source="pyproject:License-Expression"
    )
    assert node.description == "A demo project"
    assert set(node.authors) == {
        Contact("Ann", "ann@example.com", "author"),
        Contact(None, "bob@example.com", "author"),
        Contact("Cy", None, "maintainer"),
    }
    assert {(link.kind, link.url) for link in node.links} == {
        ("website", "https://example.com"),
        ("issue-tracker", "https://example.com/issues"),
    }


def test_legacy_license_tables(tmp_path: Path) -> None:
    text = '[project]\nname = "demo"\nversion = "1"\nlicense = {text = "MIT License"}\n'
    assert _subject(tmp_path, text).license == License(expression="MIT", source="pyproject:License")
    text = (
        '[project]\nname = "demo"\nversion = "1"\nlicense = {file = "LICENSE"}\n'
        'classifiers = ["License :: OSI Approved :: BSD License"]\n'
    )
    assert _subject(tmp_path, text).license == License(
        names=("BSD License",), source="pyproject:Classifier"
    )
    text = '[project]\nname = "demo"\nversion = "1"\nlicense = {file = "LICENSE"}\n'
    found = _subject(tmp_path, text).license
    assert found is not None and not found.known and "LICENSE" in (found.unknown or "")


def test_poetry(tmp_path: Path) -> None:
    node = _subject(
        tmp_path,
        '[tool.poetry]\nname = "demo"\nversion = "1"\nlicense = "MIT"\n'
        'authors = ["Ann <ann@example.com>"]\ndescription = "Demo"\n'
        'repository = "https://github.com/example/demo"\n',
    )
    assert node.license == License(expression="MIT", source="pyproject:License-Expression")
    assert node.authors == (Contact("Ann", "ann@example.com", "author"),)
    assert [(link.kind, link.url) for link in node.links] == [
        ("vcs", "https://github.com/example/demo")
    ]
