"""The pre-commit hooks, run by the real pre-commit in a temporary git repository.

A repository with ``requirements.txt`` (``requests==2.32.3``) accepts its trust
relationships (``depchain accept`` writes ``depchain-ledger.json``) and commits; then:

- ``pre-commit run --all-files`` passes, and depchain prints nothing;
- a commit that adds ``flask>=3`` fails, naming ``requirements.txt:2``, the gap and the
  command that accepts it; after ``depchain accept`` the same commit passes;
- a commit that touches two manifests at once fails naming both, and passes once
  accepted.

Two ways to get the hook:

- offline (the default suite): a ``repo: local`` hook made from the fields of our
  ``.pre-commit-hooks.yaml``, with ``language: system`` and the entry pointing at the
  depchain of the running environment;
- online: ``repo:`` a snapshot of this checkout (its working tree, committed to a
  temporary repository, since pre-commit clones committed state) at that commit, as a
  user's configuration names us; pre-commit installs the hook's environment from the
  package index, so the test is marked ``online`` and skips when the index cannot be
  reached.

``PRE_COMMIT_HOME`` is the test's own; git reads a configuration of the test's own
(no user or system hooks, templates or signing).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from depchain.trust.catalogue import BY_ID
from tests.conftest import REPO

pytest.importorskip("pre_commit")

BIN = Path(sys.executable).parent
DEPCHAIN = shutil.which("depchain", path=str(BIN)) or str(BIN / "depchain")
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
TIMEOUT = 120
INSTALL_TIMEOUT = 1200
"""Seconds for the first commit of the online test: pre-commit builds the hook's
environment from the package index then."""

UNPINNED = BY_ID["DC001"]


def _manifest_hook(hook_id: str) -> dict[str, Any]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == hook_id]
    assert isinstance(hook, dict)
    return hook


class Repo:
    """A temporary git repository, and the commands a developer runs in it."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        home.mkdir(parents=True, exist_ok=True)
        gitconfig = home / "gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Test\n\temail = test@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n"
            "[commit]\n\tgpgsign = false\n",
            encoding="utf-8",
        )
        env = {
            k: v
            for k, v in os.environ.items()
            # a test run from a git hook (or with SKIP=...) must not steer this repository
            if not k.startswith(("GIT_", "PRE_COMMIT")) and k not in {"SKIP", "SOURCE_DATE_EPOCH"}
        }
        env.update(
            GIT_CONFIG_GLOBAL=str(gitconfig),
            GIT_CONFIG_NOSYSTEM="1",
            PRE_COMMIT_HOME=str(home / "pre-commit"),
            PRE_COMMIT_COLOR="never",
            PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
        )
        self.env = env
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def run(
        self, *argv: str, timeout: float = TIMEOUT, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv,
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert done.returncode == 0, (
                f"{shlex.join(argv)}: exit {done.returncode}\n{done.stdout}"
            )
        return done

    def git(self, *args: str) -> str:
        return self.run("git", *args, check=True).stdout

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def append(self, name: str, text: str) -> None:
        with (self.root / name).open("a", encoding="utf-8") as handle:
            handle.write(text)

    def accept(self) -> None:
        self.run(DEPCHAIN, "accept", check=True)
        assert (self.root / "depchain-ledger.json").is_file()

    def commit(self, message: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        self.git("add", "-A")
        return self.run("git", "commit", "-q", "-m", message, timeout=timeout)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


_QUIET = re.compile(
    r"^(?:.*?\.{2,}(?:\(no files to check\))?(?:Passed|Skipped)"
    r"|- hook id: .*|- duration: .*|\[INFO\] .*)$"
)


def _said_by_hooks(output: str) -> list[str]:
    """The lines of pre-commit's output that are not its own status lines: what the
    hooks printed."""
    return [line for line in output.splitlines() if line.strip() and not _QUIET.match(line)]


def _scenario(repo: Repo, config: str, first_commit_timeout: float = TIMEOUT) -> None:
    repo.write("requirements.txt", "requests==2.32.3\n")
    repo.write(".pre-commit-config.yaml", config)
    repo.run(*PRE_COMMIT, "install", check=True)
    repo.accept()
    first = repo.commit("requirements, accepted", timeout=first_commit_timeout)
    assert first.returncode == 0, first.stdout

    # everything is accepted: the hook passes and depchain says nothing
    ran = repo.run(*PRE_COMMIT, "run", "--all-files", "--verbose")
    assert ran.returncode == 0, ran.stdout
    assert re.search(r"^depchain .*Passed$", ran.stdout, re.M), ran.stdout
    assert _said_by_hooks(ran.stdout) == [], ran.stdout

    # a new unpinned requirement: the commit fails, saying where, why and what to run
    before = repo.head()
    repo.append("requirements.txt", "flask>=3\n")
    refused = repo.commit("flask")
    out = refused.stdout
    assert refused.returncode != 0, out
    assert repo.head() == before
    assert "requirements.txt:2" in out, out
    assert "flask" in out.lower(), out
    assert UNPINNED.id in out or UNPINNED.title.lower() in out.lower(), out
    assert "depchain accept" in out, out
    assert "requests" not in "".join(
        line for line in _said_by_hooks(out) if "requirements.txt:1" in line
    ), "an accepted requirement was named again"

    # accepted: the same change commits
    repo.accept()
    passed = repo.commit("flask, accepted")
    assert passed.returncode == 0, passed.stdout
    assert repo.head() != before

    # two manifests in one commit: both named, both accepted at once
    before = repo.head()
    repo.append("requirements.txt", "idna>=3\n")
    repo.write("requirements-dev.txt", "pytest>=8\n")
    refused = repo.commit("two manifests")
    out = refused.stdout
    assert refused.returncode != 0, out
    assert "requirements.txt:3" in out, out
    assert "requirements-dev.txt:1" in out, out
    assert repo.head() == before
    repo.accept()
    passed = repo.commit("two manifests, accepted")
    assert passed.returncode == 0, passed.stdout
    ran = repo.run(*PRE_COMMIT, "run", "--all-files", "--verbose")
    assert ran.returncode == 0 and _said_by_hooks(ran.stdout) == [], ran.stdout


# -- offline: a local hook with our manifest's fields -------------------------------------


def _local_hook(hook_id: str) -> dict[str, Any]:
    """Our manifest's hook as a ``repo: local`` hook of the running environment: same id,
    name, files and arguments, ``language: system``, the entry's program made the
    absolute path of this environment's (depchain, python)."""
    hook = dict(_manifest_hook(hook_id))
    program, _, rest = hook["entry"].partition(" ")
    local = {"depchain": DEPCHAIN, "python": sys.executable}[program]
    hook["entry"] = f"{shlex.quote(local)} {rest}"
    hook["language"] = "system"
    hook.pop("description", None)
    return hook


def _local_config(*hook_ids: str) -> str:
    config = {"repos": [{"repo": "local", "hooks": [_local_hook(h) for h in hook_ids]}]}
    return yaml.safe_dump(config, sort_keys=False)


def test_local_hook_with_the_real_pre_commit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo", tmp_path / "home")
    repo.env["DEPCHAIN_OFFLINE"] = "1"  # accept enriches from the index unless offline
    _scenario(repo, _local_config("depchain"))


def test_sbom_hook_regenerates_the_committed_sbom(tmp_path: Path) -> None:
    """depchain-sbom: the same manifests give the same bytes (the commit passes and the
    file is untouched); a changed manifest changes the SBOM, which pre-commit sees as a
    file the hook modified: the commit fails until the new SBOM is added."""
    repo = Repo(tmp_path / "repo", tmp_path / "home")
    repo.env["DEPCHAIN_OFFLINE"] = "1"
    repo.write("requirements.txt", "requests==2.32.3\n")
    repo.write(".pre-commit-config.yaml", _local_config("depchain-sbom"))
    repo.run(*PRE_COMMIT, "install", check=True)
    repo.git("add", "-A")  # pre-commit looks at what git tracks
    made = repo.run(*PRE_COMMIT, "run", "depchain-sbom", "--all-files")
    sbom = repo.root / "sbom.cdx.json"
    assert sbom.is_file(), made.stdout
    first = sbom.read_bytes()
    assert b'"timestamp": "1970-01-01T00:00:00' in first  # SOURCE_DATE_EPOCH=0
    assert repo.commit("requirements and their SBOM").returncode == 0

    again = repo.run(*PRE_COMMIT, "run", "--all-files")
    assert again.returncode == 0, again.stdout
    assert sbom.read_bytes() == first
    assert repo.git("status", "--porcelain") == ""

    before = repo.head()
    repo.append("requirements.txt", "idna==3.7\n")
    refused = repo.commit("idna")
    assert refused.returncode != 0, refused.stdout
    assert "files were modified by this hook" in refused.stdout
    assert repo.head() == before
    assert b"pkg:pypi/idna@3.7" in sbom.read_bytes()
    passed = repo.commit("idna, with its SBOM")
    assert passed.returncode == 0, passed.stdout


# -- online: the hook as users install it -------------------------------------------------


def _index_reachable() -> str | None:
    import requests

    try:
        requests.get("https://pypi.org/simple/pip/", timeout=10).raise_for_status()
    except requests.RequestException as exc:
        return f"the package index is unreachable ({type(exc).__name__})"
    return None


def _snapshot(target: Path, env: dict[str, str]) -> str:
    """This checkout's working tree (tracked and untracked files, less what .gitignore
    leaves out) committed to a repository of its own: the sha pre-commit clones."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        stdout=subprocess.PIPE,
        check=True,
        env=env,
        timeout=TIMEOUT,
    ).stdout.decode("utf-8", "surrogateescape")
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if not source.is_file() and not source.is_symlink():
            continue  # deleted in the working tree
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest, follow_symlinks=False)
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *argv], cwd=target, env=env, check=True, timeout=TIMEOUT)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=target,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.strip()


@pytest.mark.online
def test_hook_from_this_checkout_as_users_install_it(tmp_path: Path) -> None:
    reason = _index_reachable()
    if reason:
        pytest.skip(reason)
    repo = Repo(tmp_path / "repo", tmp_path / "home")
    snapshot = tmp_path / "depchain"
    rev = _snapshot(snapshot, repo.env)
    config = {
        "repos": [{"repo": str(snapshot), "rev": rev, "hooks": [{"id": "depchain"}]}],
    }
    _scenario(repo, yaml.safe_dump(config, sort_keys=False), INSTALL_TIMEOUT)
    # the hook's environment is the core install: no sigstore stack
    [python] = sorted((tmp_path / "home" / "pre-commit").glob("repo*/py_env-*/bin/python"))
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.lower()
    assert "depchain==" in listed
    assert "pypi-attestations" not in listed and "sigstore" not in listed
