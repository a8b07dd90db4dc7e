"""Roles: what a project ships versus what sits in its repository (issue 9).

The repository built here is the issue's own acceptance case: a root project with no
dependencies, test fixtures, a packaging helper, CI and editor configuration, a uv
workspace member with client libraries, a compose file and a Kubernetes Service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import depchain
from depchain.cli import app
from depchain.model import DependencyKind, Role, Scope
from depchain.roles import RoleAssigner, glob_match, role_from_name, role_from_place

FILES = {
    "pyproject.toml": """\
[project]
name = "acme"
version = "1.0.0"
dependencies = []

[tool.uv.workspace]
members = ["backend"]
""",
    "tests/data/pylock.toml": """\
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "requests"
version = "2.0.0"
""",
    "extras/packaging/Dockerfile": "FROM python:3.12-slim\nRUN pip install pyinstaller\n",
    "tests/go.mod": "module example.com/fixture\n\ngo 1.21\n\nrequire golang.org/x/net v0.7.0\n",
    ".github/ISSUE_TEMPLATE/config.yml": """\
blank_issues_enabled: false
contact_links:
  - name: Questions
    url: http://discuss.example.org/c/help
""",
    ".vscode/settings.json": '{"remote.url": "http://insecure.example.org/x"}\n',
    "backend/pyproject.toml": """\
[project]
name = "backend"
version = "0.1.0"
dependencies = ["psycopg[binary]==3.2.3", "redis==5.2.0"]
""",
    "compose.yml": """\
services:
  db:
    image: postgres:16
  cache:
    image: redis:7
  api:
    build: ./backend
    environment:
      ORDERS_URL: http://orders.shop.svc.cluster.local:8080/api
""",
    "k8s/orders.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: orders
  namespace: shop
spec:
  ports:
    - port: 8080
""",
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_root_ships_nothing_and_fixtures_stay_out(tmp_path: Path) -> None:
    result = depchain.scan(_tree(tmp_path, FILES))
    assert not result.errors, result.errors
    graph = result.graph
    assert result.subject == "pkg:pypi/acme@1.0.0"
    runtime = [
        d
        for d in graph.dependencies_of(result.subject)
        if d.kind in {DependencyKind.DYNAMIC, DependencyKind.STATIC}
        and d.scope is not Scope.DEV
        and not d.target.startswith("pkg:docker/")  # the compose deployment's images
    ]
    assert runtime == []
    # fixtures are listed with their role and nothing else
    roles = {i.path: i for i in result.inputs}
    assert roles["tests/data/pylock.toml"].role is Role.FIXTURE
    assert not roles["tests/data/pylock.toml"].read
    assert roles["tests/go.mod"].role is Role.FIXTURE
    ids = {c.id for c in graph.components()}
    assert not any("requests" in i or "golang.org" in i for i in ids)
    assert not any(e.path.startswith("tests/") for f in result.findings for e in f.evidence), (
        result.findings
    )
    # the packaging helper is build-time, never runtime
    assert roles["extras/packaging/Dockerfile"].role is Role.BUILD
    python = next(c for c in graph.components() if c.name == "python")
    assert {d.kind for d in graph.dependents(python.id)} == {DependencyKind.BUILD}
    # no service from the issue template or the editor settings
    assert roles[".github/ISSUE_TEMPLATE/config.yml"].role is Role.DEV
    assert roles[".vscode/settings.json"].role is Role.DEV
    hosts = {e for s in graph.services() for e in s.endpoints}
    assert not any("example.org" in h for h in hosts), hosts


def test_workspace_member_clients_reach_the_compose_services(tmp_path: Path) -> None:
    result = depchain.scan(_tree(tmp_path, FILES))
    graph = result.graph
    assert result.projects["pkg:pypi/backend@0.1.0"] is Role.RUNTIME

    def served(name: str) -> set[str]:
        (client,) = (c for c in graph.components() if c.name == name and c.ecosystem == "pypi")
        return {
            d.target for d in graph.dependencies_of(client.id) if d.kind is DependencyKind.SERVICE
        }

    assert served("psycopg") == {"service:compose:db"}
    assert served("redis") == {"service:compose:cache"}


def test_cluster_dns_name_reaches_the_repository_service_inside(tmp_path: Path) -> None:
    result = depchain.scan(_tree(tmp_path, FILES))
    orders = result.graph.node("service:k8s:shop/orders")
    assert orders.trust_boundary is False  # type: ignore[union-attr]
    assert not any(f.id == "DC019" for f in result.findings), result.findings


def test_cli_exit_zero_and_json_inputs(tmp_path: Path) -> None:
    root = _tree(tmp_path, FILES)
    runner = CliRunner()
    assert runner.invoke(app, ["scan", str(root)]).exit_code == 0
    out = runner.invoke(app, ["scan", str(root), "--format", "json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    by_path = {i["path"]: i for i in report["inputs"]}
    assert by_path["tests/data/pylock.toml"] == {
        "path": "tests/data/pylock.toml",
        "resolver": "pylock",
        "project": "pkg:pypi/acme@1.0.0",
        "role": "fixture",
        "role_reason": "test data under tests/data/",
        "read": False,
    }
    assert by_path["backend/pyproject.toml"]["project"] == "pkg:pypi/backend@0.1.0"
    roles = {e["role"] for d in report["dependencies"] for e in d["evidence"]}
    assert roles == {"runtime", "build"}


def test_all_roles_reads_fixtures_as_if_real(tmp_path: Path) -> None:
    result = depchain.scan(_tree(tmp_path, FILES), all_roles=True)
    assert any(c.name == "requests" for c in result.graph.components())
    assert all(i.read for i in result.inputs)


def test_exclude_and_include_are_noted(tmp_path: Path) -> None:
    root = _tree(tmp_path, FILES)
    result = depchain.scan(root, exclude=["k8s", "extras/**"])
    paths = {i.path for i in result.inputs}
    assert "k8s/orders.yaml" not in paths and "extras/packaging/Dockerfile" not in paths
    notes = dict(result.notes)
    assert "excluded by 'k8s'" in notes["k8s/"]
    assert "excluded by 'extras/**'" in notes["extras/"]
    only = depchain.scan(root, include=["backend/*"])
    assert {i.path for i in only.inputs} == {"backend/pyproject.toml"}
    assert "not matched by any include pattern" in dict(only.notes)["compose.yml"]


def test_policy_roles_include_exclude(tmp_path: Path) -> None:
    files = dict(FILES)
    files["pyproject.toml"] += (
        '\n[tool.depchain]\nexclude = ["k8s"]\n\n[tool.depchain.roles]\n'
        '"extras/packaging/*" = "runtime"\n'
    )
    result = depchain.scan(_tree(tmp_path, files))
    assert not result.errors, result.errors
    roles = {i.path: i for i in result.inputs}
    assert "k8s/orders.yaml" not in roles
    assert roles["extras/packaging/Dockerfile"].role is Role.RUNTIME
    assert roles["extras/packaging/Dockerfile"].reason.startswith("pyproject.toml:")
    # the command line has the last word
    again = depchain.scan(tmp_path, roles=["extras/**=dev"])
    assert {i.path: i.role for i in again.inputs}["extras/packaging/Dockerfile"] is Role.DEV


def test_bad_role_rules(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[tool.depchain.roles]\n"x/*" = "shipped"\n'}
    result = depchain.scan(_tree(tmp_path, files))
    assert any("roles" in e.message and "shipped" in e.message for e in result.errors)
    with pytest.raises(depchain.errors.UsageError):
        depchain.scan(tmp_path, roles=["nonsense"])


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("tests/requirements.txt", Role.TEST),
        ("tests/data/requirements.txt", Role.FIXTURE),
        ("tests/functional/project/pyproject.toml", Role.FIXTURE),
        ("src/pkg/tests/fixtures/uv.lock", Role.FIXTURE),
        ("docs/requirements.txt", Role.DOCS),
        ("examples/app/pyproject.toml", Role.EXAMPLE),
        ("scripts/requirements.txt", Role.DEV),
        ("benchmarks/requirements.txt", Role.DEV),
        ("extras/packaging/Dockerfile", Role.BUILD),
        (".github/workflows/ci.yml", Role.DEV),
        ("backend/pyproject.toml", None),
        ("requirements.txt", None),
        # wagtail: Django's startproject template (its Dockerfile and requirements.txt
        # made wagtail==8.0a0 and libpq5 runtime dependencies of wagtail itself)
        ("wagtail/project_template/requirements.txt", Role.EXAMPLE),
        ("wagtail/project_template/Dockerfile", Role.EXAMPLE),
        # pdm: ``pdm init``'s template was a runtime project of the repository
        ("src/pdm/cli/templates/default/pyproject.toml", Role.EXAMPLE),
        ("{{cookiecutter.slug}}/requirements.txt", Role.EXAMPLE),
        ("charts/app/templates/deployment.yaml", None),  # a Helm chart's own manifests
        ("app/templates/index.html", None),
    ],
)
def test_role_by_place(path: str, role: Role | None) -> None:
    from pathlib import PurePosixPath

    found = role_from_place(PurePosixPath(path))
    assert (found[0] if found else None) is role


def test_role_by_name() -> None:
    from pathlib import PurePosixPath

    def named(path: str, resolver: str) -> Role | None:
        found = role_from_name(PurePosixPath(path), resolver)
        return found[0] if found else None

    assert named("requirements-dev.txt", "requirements") is Role.DEV
    assert named("requirements/test.txt", "requirements") is Role.TEST
    assert named("requirements/build.txt", "requirements") is Role.BUILD
    assert named("requirements.txt", "requirements") is None
    assert named("docker-compose.test.yml", "compose") is Role.TEST
    assert named("Dockerfile.dev", "dockerfile") is Role.DEV
    assert named("docker-compose.yml", "compose") is None


def test_what_installs_a_requirements_file(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndependencies = []\n',
        "requirements.txt": "flask==3.0.0\n",
        "pinned.txt": "",
        "requirements-pinned.txt": "pytest==8.0.0\n",
        "requirements-worker.txt": "celery==5.4.0\n",
        "tox.ini": "[testenv]\ndeps =\n    -r requirements-pinned.txt\n    -rrequirements.txt\n",
        "Dockerfile": "FROM python:3.12\nRUN pip install -r requirements-worker.txt\n",
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: pip install -r requirements-worker.txt\n"
        ),
    }
    result = depchain.scan(_tree(tmp_path, files))
    roles = {i.path: i for i in result.inputs}
    # tox alone installs it: test; a runtime name stays runtime; the shipped image wins
    assert roles["requirements-pinned.txt"].role is Role.TEST
    assert roles["requirements-pinned.txt"].reason == "installed by tox.ini:3"
    assert roles["requirements.txt"].role is Role.RUNTIME
    assert roles["requirements-worker.txt"].role is Role.RUNTIME
    assert roles["requirements-worker.txt"].reason == "installed by Dockerfile:2"
    pytest_dep = next(
        d for d in result.graph.dependencies() if d.target.startswith("pkg:pypi/pytest")
    )
    assert (pytest_dep.kind, pytest_dep.scope) == (DependencyKind.BUILD, Scope.DEV)


def test_globs() -> None:
    assert glob_match("tests", "a/tests/b.txt")
    assert glob_match("tests/**", "tests/x/y.toml")
    assert not glob_match("tests/**", "a/tests/x.toml")
    assert glob_match("**/fixtures/*.lock", "a/b/fixtures/uv.lock")
    assert glob_match("docs/*.txt", "docs/r.txt")
    assert not glob_match("docs/*.txt", "docs/a/r.txt")
    assert glob_match("*.lock", "deep/down/poetry.lock")


def test_assigner_override_order() -> None:
    from depchain.roles import RoleRule

    assigner = RoleAssigner(
        [RoleRule("tests/**", Role.RUNTIME, "a"), RoleRule("tests/data/*", Role.DOCS, "b")]
    )
    assert assigner.assign("tests/data/x.toml", "pylock").role is Role.DOCS
    assert assigner.assign("tests/y.toml", "pylock").role is Role.RUNTIME


def test_folders_above_the_scanned_one_say_nothing(tmp_path: Path) -> None:
    # any parent named 'deploy' once made every YAML file a Kubernetes manifest
    project = tmp_path / "deploy" / "proj"
    _tree(project, {"settings.yaml": "a: 1\n", "notes.yaml": "url: http://x.example.org\n"})
    result = depchain.scan(project)
    assert [(i.path, i.resolver) for i in result.inputs] == [("settings.yaml", "config-urls")]


def test_files_that_only_look_like_env_files(tmp_path: Path) -> None:
    _tree(tmp_path, {".env.patch": "--- a\n+++ b\n@@ -1 +1 @@\n-X=1\n+X=2\n", ".env.prod": "A=1\n"})
    result = depchain.scan(tmp_path)
    assert [i.path for i in result.inputs] == [".env.prod"]
    assert not result.errors


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("frontend/Dockerfile.playwright", Role.TEST),
        ("docker-compose.override.yml", Role.DEV),  # the local developer's settings
        ("compose.workstation.yaml", Role.DEV),
        ("requirements-integration.txt", Role.TEST),
    ],
)
def test_more_names(name: str, role: Role) -> None:
    from pathlib import PurePosixPath

    from depchain.resolvers import resolver_for

    spec = resolver_for(PurePosixPath(name))
    assert spec is not None
    assert RoleAssigner().assign(name, spec.name).role is role


def test_seen_not_analysed(tmp_path: Path) -> None:
    _tree(tmp_path, {"web/package-lock.json": "{}", "web/package.json": "{}", "Gemfile.lock": ""})
    result = depchain.scan(tmp_path)
    notes = dict(result.notes)
    assert notes["web/package-lock.json"].startswith("seen, not analysed: npm lockfile")
    assert notes["Gemfile.lock"].startswith("seen, not analysed: Ruby Gemfile.lock")
    assert len([p for p, _ in result.notes if p == "web/package.json"]) == 1


def test_an_aggregator_of_tooling_files_is_tooling(tmp_path: Path) -> None:
    # orjson's requirements.txt: -r of bench, integration, lint and test files, plus maturin
    files = {
        "pyproject.toml": '[project]\nname = "p"\nversion = "1"\n',
        "requirements.txt": "-r bench/requirements.txt\n-r requirements-lint.txt\nmaturin>=1\n",
        "bench/requirements.txt": "pandas\n",
        "requirements-lint.txt": "ruff\n",
        "Dockerfile": "FROM python:3.12\nCOPY . .\nRUN pip install -r scripts/requirements.txt\n",
        "scripts/requirements.txt": "boto3==1.35.0\n",
    }
    result = depchain.scan(_tree(tmp_path, files))
    roles = {i.path: (i.role, i.reason) for i in result.inputs}
    assert roles["requirements.txt"][0] is Role.DEV
    assert roles["requirements.txt"][1].startswith("includes only tooling files")
    # a runtime file's -r does not make a dev-named or dev-placed file runtime ...
    assert roles["bench/requirements.txt"][0] is Role.DEV
    assert roles["requirements-lint.txt"][0] is Role.DEV
    # ... but what the shipped image installs is runtime wherever it lives
    assert roles["scripts/requirements.txt"] == (Role.RUNTIME, "installed by Dockerfile:3")
    assert not [
        d
        for d in result.graph.dependencies_of(result.subject)
        if d.kind is DependencyKind.DYNAMIC and d.target.split("/")[-1].startswith("maturin")
    ]


def test_kubernetes_objects_anywhere_are_read(tmp_path: Path) -> None:
    # kubeflow's apps/katib/components/ui/: no conventional folder name on the way
    _tree(
        tmp_path,
        {
            "apps/katib/components/ui/ui.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ui\nspec:\n"
                "  template:\n    spec:\n      containers:\n"
                "        - name: ui\n          image: ghcr.io/kubeflow/katib-ui:v0.17.0\n"
            ),
            "apps/katib/components/ui/kustomization.yaml": "namespace: kubeflow\n",
            "apps/katib/components/ui/values.yaml": "replicas: 2\n",
        },
    )
    result = depchain.scan(tmp_path)
    assert {i.path: i.resolver for i in result.inputs} == {
        "apps/katib/components/ui/kustomization.yaml": "kubernetes",
        "apps/katib/components/ui/ui.yaml": "kubernetes",
    }
    assert any(c.name == "ghcr.io/kubeflow/katib-ui" for c in result.graph.components())


@pytest.mark.parametrize(
    ("path", "role"),
    [
        (".pre-commit-config.yaml", Role.DEV),
        ("tox.ini", Role.TEST),
        ("workstation/Dockerfile", Role.DEV),
        (".claude/settings.json", Role.DEV),
        ("website/compose.yml", Role.RUNTIME),
    ],
)
def test_tooling_and_place_roles(path: str, role: Role) -> None:
    from pathlib import PurePosixPath

    from depchain.resolvers import resolver_for

    spec = resolver_for(PurePosixPath(path))
    assert spec is not None
    assert RoleAssigner().assign(path, spec.name).role is role


def test_pins_do_not_leak_across_roles_or_projects(tmp_path: Path) -> None:
    # pip-tools: a pre-commit hook's click==8.0.1 and the docs' wheel==0.47.0 once
    # became the versions of the runtime click>=8 and wheel
    files = {
        "pyproject.toml": '[project]\nname = "lib"\nversion = "1.0"\n'
        'dependencies = ["click>=8", "wheel"]\n',
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/mirrors-mypy\n"
        "    rev: v1.0.0\n    hooks:\n      - id: mypy\n"
        "        additional_dependencies: [click==8.0.1]\n",
        "docs/requirements.txt": "wheel==0.47.0\n",
        "a/requirements.in": "six\n",
        "b/requirements.txt": "six==1.16.0\n",
    }
    result = depchain.scan(_tree(tmp_path, files))
    ids = {c.id for c in result.graph.components()}
    assert {"pkg:pypi/click", "pkg:pypi/wheel", "pkg:pypi/six"} <= ids
    unpinned = {f.component for f in result.findings if f.id == "DC001"}
    assert {"pkg:pypi/click", "pkg:pypi/wheel"} <= unpinned


def test_what_the_shipped_image_installs_is_runtime(tmp_path: Path) -> None:
    # redash: the image runs `uv sync --group all_ds`; a Makefile and /app paths (r15)
    files = {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "1.0"\n'
        'dependencies = ["flask==3.0.0"]\n\n[dependency-groups]\n'
        'all_ds = ["pymongo==4.6.0", "boto3==1.28.8"]\ndev = ["pytest==8.0.0"]\n',
        "Dockerfile": "FROM python:3.12-slim\nCOPY pyproject.toml uv.lock ./\n"
        "COPY requirements-worker.txt /app/requirements-worker.txt\n"
        "RUN uv sync --frozen --no-install-project --group all_ds\n"
        "RUN pip install -r /app/requirements-worker.txt\n",
        "Makefile": "install:\n\tpip install -r requirements-worker.txt\n",
        "requirements-worker.txt": "celery==5.4.0\n",
    }
    result = depchain.scan(_tree(tmp_path, files))
    by_target = {d.target.split("/")[-1]: d for d in result.graph.dependencies_of(result.subject)}
    pymongo = by_target["pymongo@4.6.0"]
    assert (pymongo.kind, pymongo.scope) == (DependencyKind.DYNAMIC, Scope.REQUIRED)
    assert any(e.path == "Dockerfile" and e.line == 4 for e in pymongo.evidence)
    assert by_target["pytest@8.0.0"].kind is DependencyKind.BUILD
    roles = {i.path: (i.role, i.reason) for i in result.inputs}
    assert roles["requirements-worker.txt"] == (Role.RUNTIME, "installed by Dockerfile:5")
    families = {d.target for d in result.graph.dependencies() if d.kind is DependencyKind.SERVICE}
    assert "service:mongodb" in families


def test_installed_groups() -> None:
    from depchain.roles import installed_groups

    text = (
        "RUN uv sync --frozen --group all_ds --extra S3\n"
        "RUN poetry install --with main,Worker_Deps --no-root\n"
        "RUN pdm install -G:all\nRUN uv sync --all-groups\n"
    )
    assert installed_groups(text) == {"all-ds": 1, "s3": 1, "main": 2, "worker-deps": 2, "*": 3}


def test_project_metadata_files_claim_only_runtime_dependencies(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "lib"\nversion = "1.0"\n'
        'dynamic = ["dependencies", "optional-dependencies"]\n\n[tool.setuptools.dynamic]\n'
        'dependencies = {file = ["requirements.txt"]}\n'
        'optional-dependencies.dev = {file = ["requirements-dev.txt"]}\n',
        "requirements.txt": "requests==2.32.3\n",
        "requirements-dev.txt": "pytest==8.0.0\n",
        "sub/setup.cfg": "[metadata]\nname = sub\n\n[options]\ninstall_requires = file: reqs.in\n",
        "sub/reqs.in": "six\n",
    }
    result = depchain.scan(_tree(tmp_path, files))
    roles = {i.path: (i.role, i.reason) for i in result.inputs}
    assert roles["requirements.txt"] == (Role.RUNTIME, "installed by pyproject.toml:7")
    assert roles["requirements-dev.txt"] == (Role.DEV, "named for dev")


def test_a_go_module_is_a_project_of_its_own(tmp_path: Path) -> None:
    # go-python/gopy: a go.mod at the top and no Python project beside it
    files = {
        "go.mod": "module github.com/go-python/gopy\n\ngo 1.21\n\n"
        "require golang.org/x/tools v0.16.0\n",
        "py/pyproject.toml": '[project]\nname = "gopy-helper"\nversion = "1"\n',
        "ext/pyproject.toml": '[project]\nname = "ext"\nversion = "1"\n',
        "ext/src/goext/go.mod": "module example.com/ext\n\ngo 1.21\n\n"
        "require golang.org/x/net v0.7.0\n",
    }
    result = depchain.scan(_tree(tmp_path, files))
    module = "pkg:golang/github.com/go-python/gopy"
    assert result.subject == module and result.projects[module] is Role.RUNTIME
    (dep,) = result.graph.dependencies_of(module)
    assert dep.target == "pkg:golang/golang.org/x/tools@v0.16.0"
    assert dep.kind is DependencyKind.STATIC
    # a Go module inside a Python project is that project's (an extension built into it)
    ext = next(c.id for c in result.graph.components() if c.name == "ext")
    assert "pkg:golang/golang.org/x/net@v0.7.0" in {
        d.target for d in result.graph.dependencies_of(ext)
    }
    inputs = {i.path: i.project for i in result.inputs}
    assert inputs["go.mod"] == module and inputs["ext/src/goext/go.mod"] == ext


def test_a_rust_crate_outside_any_python_project_is_a_project(tmp_path: Path) -> None:
    lock = (
        "version = 3\n\n"
        '[[package]]\nname = "tool"\nversion = "0.3.0"\ndependencies = ["itoa"]\n\n'
        '[[package]]\nname = "itoa"\nversion = "1.0.11"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        f'checksum = "{"a" * 64}"\n'
    )
    manifest = '[package]\nname = "tool"\nversion = "0.3.0"\n\n[dependencies]\nitoa = "1"\n'
    result = depchain.scan(_tree(tmp_path, {"Cargo.lock": lock, "Cargo.toml": manifest}))
    assert result.subject == "pkg:cargo/tool@0.3.0"
    assert result.projects["pkg:cargo/tool@0.3.0"] is Role.RUNTIME
    targets = {d.target for d in result.graph.dependencies_of(result.subject)}
    assert targets == {"pkg:cargo/itoa@1.0.11"}
    # inside a Python project the crates are that project's, as maturin builds them
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "py"\nversion = "1"\n')
    inside = depchain.scan(tmp_path)
    assert inside.subject == "pkg:pypi/py@1"
    assert "pkg:cargo/itoa@1.0.11" in {
        d.target for d in inside.graph.dependencies_of(inside.subject)
    }
