"""Fuzzing: structure-aware mutations of real files, for every resolver (issue 10, point 6).

Each resolver's seeds (the real files of ../shared/data/real-world it reads, and a small
synthetic seed where the data set has none: Dockerfile, go.mod, Kubernetes, .env,
configuration files, setup.py, vcpkg, conan, a wheel) are mutated by
:mod:`tests.fuzz.mutators` with a fixed seed, for a time budget shared by the resolvers.
For every mutated input, ``depchain.scan`` of a folder holding it, and for a sample the
CLI with an output file, must:

- never raise, never exit 4, never report an unforeseen failure ("please report this
  input": a resolver's exception caught by the scanner);
- finish within a per-input bound (CPU seconds; a wall-clock alarm catches hangs);
- give errors of one line naming a file of the input, and never ``line None``;
- leave the output file whole (valid JSON/XML) and no temporary file beside it.

Every input that ever failed is kept in ``corpus/`` (one JSON file per case: its files
and, when the fix belongs to a file this suite's authors may not edit, an ``xfail``
reason) and replayed by :func:`test_corpus`, which runs without ../shared/data.

Environment: ``DEPCHAIN_FUZZ_SECONDS`` (total budget, default 60), ``DEPCHAIN_FUZZ_SEED``,
``DEPCHAIN_FUZZ_INPUT_SECONDS`` (per-input bound, default 5), ``DEPCHAIN_FUZZ_SAVE`` (a
folder where failing inputs are written as corpus files; default: pytest's tmp folder).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import random
import re
import signal
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

import pytest

import depchain
from depchain.cli import main
from depchain.resolvers import REGISTRY, resolver_for
from tests.conftest import REAL_WORLD
from tests.fuzz import mutators, seeds

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SEED = int(os.environ.get("DEPCHAIN_FUZZ_SEED", "20250601"))
BUDGET = float(os.environ.get("DEPCHAIN_FUZZ_SECONDS", "60"))
INPUT_SECONDS = float(os.environ.get("DEPCHAIN_FUZZ_INPUT_SECONDS", "5"))
HANG_SECONDS = max(30.0, 6 * INPUT_SECONDS)
"""Wall clock after which an input is a hang (the CPU bound is the real check)."""
CLI_EVERY = 6
"""One input in this many also goes through the CLI, with an output file."""
MAX_CASE_BYTES = 1 << 20
"""Larger mutated inputs are drawn again: the time bound is for ordinary sizes."""
MIN_INPUTS = 8
"""Per resolver, whatever the budget."""

FAMILIES = sorted({spec.name for spec in REGISTRY})


# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    target: str
    """Relative path the file is written at (its place decides its resolver)."""
    data: bytes
    side: dict[str, bytes] = field(default_factory=dict)
    origin: str = ""


def _real_seeds() -> Iterator[Seed]:
    if not REAL_WORLD.is_dir():
        return
    for path in sorted(REAL_WORLD.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(REAL_WORLD)
        inner = PurePosixPath(*relative.parts[1:])
        if len(relative.parts) > 1 and resolver_for(inner) is not None:
            yield Seed(inner.as_posix(), path.read_bytes(), origin=relative.as_posix())


def _synthetic_seeds() -> Iterator[Seed]:
    for target, text in seeds.TEXT_SEEDS.items():
        side = {k: v.encode() for k, v in seeds.SIDE_FILES.get(target, {}).items()}
        yield Seed(target, text.encode(), side, origin=f"seeds.py:{target}")
    members = {k: v.encode() for k, v in seeds.WHEEL_MEMBERS.items()}
    yield Seed(seeds.WHEEL_NAME, mutators.build_wheel(members), origin="seeds.py:wheel")


def seeds_by_family() -> dict[str, list[Seed]]:
    found: dict[str, list[Seed]] = {}
    for seed in [*_real_seeds(), *_synthetic_seeds()]:
        spec = resolver_for(PurePosixPath(seed.target))
        assert spec is not None, seed.target
        found.setdefault(spec.name, []).append(seed)
    return found


# --------------------------------------------------------------------------- checks


class _Hang(BaseException):
    """Raised by the alarms: not an ``Exception``, so no resolver catches it."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@contextlib.contextmanager
def _alarm(seconds: float, cpu_seconds: float | None = None) -> Iterator[None]:
    """A wall-clock alarm (a hang) and a CPU-time one (too slow): either raises
    :class:`_Hang` where the work is, so its traceback says where the time goes."""

    def wall(signum: int, frame: FrameType | None) -> None:
        raise _Hang(f"hang: no result after {seconds:.0f} s")

    def cpu(signum: int, frame: FrameType | None) -> None:
        raise _Hang(f"slow: more than {cpu_seconds:.0f} s CPU")

    previous = signal.signal(signal.SIGALRM, wall), signal.signal(signal.SIGPROF, cpu)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    if cpu_seconds:
        signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGPROF, previous[1])


def _where(exc: BaseException) -> str:
    """The innermost depchain frames of a traceback, innermost first: file:line function."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/depchain/" in f.filename]
    if not frames:
        frames = traceback.extract_tb(exc.__traceback__)[-1:]
    if not frames:
        return "?"
    return " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[:-5:-1])


def _resolver_traceback(root: Path, display: str) -> str:
    """Run one file's resolver again, outside the scanner's catch-all, to say where the
    unforeseen failure it reported comes from."""
    from depchain.ids import generic_component
    from depchain.model import ComponentType, Evidence
    from depchain.resolvers.base import ResolveContext

    path = root / display
    spec = resolver_for(PurePosixPath(display))
    if spec is None or not path.exists():
        return "?"
    subject = generic_component("root", Evidence(".", None, "scan"), ComponentType.APPLICATION)
    ctx = ResolveContext(root=root, subject_for=lambda _: subject)
    try:
        spec.load()(path, ctx)
    except Exception as exc:
        return f"{type(exc).__name__} at {_where(exc)}"
    return "not reproduced outside the scanner"


def write_case(root: Path, files: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def check_scan(root: Path, files: dict[str, bytes]) -> list[str]:
    """What is wrong with scanning ``root`` (empty: nothing)."""
    problems: list[str] = []
    try:
        with _alarm(HANG_SECONDS, INPUT_SECONDS):
            result = depchain.scan(root, all_roles=True)
    except _Hang as exc:
        return [f"{exc.what} (at {_where(exc)})"]
    except Exception as exc:
        return [f"scan raised {type(exc).__name__} at {_where(exc)}: {str(exc)[:200]}"]
    for error in result.errors:
        text = f"{error.path}: {error.message}"[:300]
        if "please report this input" in error.message:
            where = _resolver_traceback(root, error.path)
            problems.append(f"unforeseen failure ({where}): {text}")
        if "\n" in error.message or "\r" in error.message:
            problems.append(f"error of several lines: {text!r}")
        if "line None" in error.message:
            problems.append(f"'line None' in error: {text}")
        if not any(error.path == f or error.path.startswith((f + "/", f + "!")) for f in files):
            problems.append(f"error names no file of the input: {text}")
    return problems


_CLI_FORMATS = (
    ("scan", "json"),
    ("scan", "sarif"),
    ("scan", "markdown"),
    ("scan", "table"),
    ("sbom", "cyclonedx-json"),
    ("sbom", "cyclonedx-xml"),
)


def check_cli(root: Path, out_dir: Path, which: int) -> list[str]:
    """The CLI on ``root``, writing to a file: exit 0 or 3, a whole output, no leftovers."""
    command, fmt = _CLI_FORMATS[which % len(_CLI_FORMATS)]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"report.{fmt}"
    argv = [command, str(root), "-f", fmt, "-o", str(out), "--all-roles"]
    if command == "scan":
        argv += ["--fail-on", "never"]
    stderr = io.StringIO()
    try:
        with _alarm(HANG_SECONDS, 2 * INPUT_SECONDS), contextlib.redirect_stderr(stderr):
            code = main(argv)
    except _Hang as exc:
        return [f"CLI {command} -f {fmt}: {exc.what} (at {_where(exc)})"]
    problems = []
    said = stderr.getvalue()
    if code not in {0, 3}:
        problems.append(f"CLI {command} -f {fmt}: exit {code}: {said.strip()[:300]}")
    if "internal error" in said or "Traceback" in said:
        problems.append(f"CLI {command} -f {fmt}: {said.strip()[:300]}")
    left = sorted(p.name for p in out_dir.iterdir() if p != out)
    if left:
        problems.append(f"CLI {command} -f {fmt}: left {left} beside the output")
    if code in {0, 3}:
        try:
            text = out.read_text("utf-8")
            if fmt.endswith("xml"):
                ET.fromstring(text)
            elif fmt in {"json", "sarif", "cyclonedx-json"}:
                json.loads(text)
            elif not text:
                problems.append(f"CLI {command} -f {fmt}: empty output")
        except (OSError, ValueError, ET.ParseError) as exc:
            problems.append(f"CLI {command} -f {fmt}: output not whole ({exc})"[:300])
    out.unlink(missing_ok=True)
    return problems


# --------------------------------------------------------------------------- corpus


def case_to_json(files: dict[str, bytes], note: str, xfail: str | None = None) -> str:
    entries: dict[str, Any] = {}
    for name, data in sorted(files.items()):
        try:
            entries[name] = {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            entries[name] = {"base64": base64.b64encode(data).decode()}
    doc: dict[str, Any] = {"note": note, "files": entries}
    if xfail:
        doc["xfail"] = xfail
    return json.dumps(doc, indent=1, ensure_ascii=True) + "\n"


def case_from_json(text: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    doc = json.loads(text)
    files = {
        name: entry["text"].encode("utf-8", "surrogatepass")
        if "text" in entry
        else base64.b64decode(entry["base64"])
        for name, entry in doc["files"].items()
    }
    return files, doc


def _corpus() -> list[Any]:
    params = []
    for path in sorted(CORPUS.glob("case-*.json")):
        _, doc = case_from_json(path.read_text("utf-8"))
        marks = [pytest.mark.xfail(strict=True, reason=doc["xfail"])] if "xfail" in doc else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("case_file", _corpus())
def test_corpus(case_file: Path, tmp_path: Path) -> None:
    """Every input that once failed, replayed: scan and CLI (JSON) must pass every check."""
    files, _ = case_from_json(case_file.read_text("utf-8"))
    root = tmp_path / "case"
    write_case(root, files)
    problems = check_scan(root, files)
    if not problems:  # a known slow input costs its time bound once, not twice
        problems = check_cli(root, tmp_path / "out", 0)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the fuzzer

_SEEDS: dict[str, list[Seed]] | None = None


def _all_seeds() -> dict[str, list[Seed]]:
    global _SEEDS
    if _SEEDS is None:
        _SEEDS = seeds_by_family()
    return _SEEDS


KNOWN: tuple[tuple[str, str], ...] = ()
"""(pattern over a problem, reason): failures already handed over, each with a strict
xfail reproducer in corpus/. Counted and printed by the fuzzer, not failed on; the
corpus case turns XPASS, and fails, once the fix lands: then remove both."""


def _known(problem: str) -> str | None:
    return next((reason for pattern, reason in KNOWN if re.search(pattern, problem)), None)


def _signature(problem: str) -> str:
    """Failures alike by kind and place, not by the input's values."""
    where = re.search(r"\(at ([^)]*)\)|\(([A-Za-z]+ at [^)]*)\)", problem)
    head = problem.split(":")[0]
    return f"{head} {re.sub(r':[0-9]+', '', where.group(0))}" if where else head


@pytest.mark.parametrize("family", FAMILIES)
def test_fuzz(family: str, tmp_path: Path) -> None:
    family_seeds = _all_seeds().get(family)
    if not family_seeds:
        pytest.skip(
            f"no seed for {family}: its real files are in ../shared/data/real-world, "
            f"not present at {REAL_WORLD}"
        )
    rng = random.Random(f"{SEED}:{family}")
    budget = BUDGET / len(FAMILIES)
    save = Path(os.environ.get("DEPCHAIN_FUZZ_SAVE") or tmp_path / "failures")
    deadline = time.perf_counter() + budget
    failures: dict[str, str] = {}
    known: dict[str, int] = {}
    count = 0
    while count < MIN_INPUTS or time.perf_counter() < deadline:
        seed = family_seeds[count % len(family_seeds)]
        if seed.target == seeds.WHEEL_NAME:
            case = mutators.Case({}, seed.target)
            case.files[seed.target] = mutators.mutate_wheel(rng, seeds.WHEEL_MEMBERS, case.steps)
        else:
            case = mutators.mutate(rng, seed.target, seed.data, seed.side)
        if sum(map(len, case.files.values())) > MAX_CASE_BYTES:
            continue  # the rng has moved on: the next draw differs
        root = tmp_path / f"in{count}"
        write_case(root, case.files)
        problems = check_scan(root, case.files)
        if not problems and count % CLI_EVERY == 0:
            problems = check_cli(root, tmp_path / f"out{count}", count // CLI_EVERY)
        for problem in problems:
            reason = _known(problem)
            if reason is not None:
                known[reason] = known.get(reason, 0) + 1
                continue
            key = _signature(problem)
            if key in failures:
                continue
            save.mkdir(parents=True, exist_ok=True)
            name = f"case-{family}-{SEED}-{count}.json"
            note = f"{seed.origin}; {'; '.join(case.steps)}; {problem}"[:600]
            (save / name).write_text(case_to_json(case.files, note), "utf-8")
            failures[key] = f"{problem}\n    input: {save / name}\n    mutation: {case.steps}"
        _remove(root)
        count += 1
    print(f"fuzz {family}: {count} inputs in {budget:.1f} s budget, seed {SEED}")
    for reason, times in known.items():
        print(f"  known ({times}x): {reason}")
    assert not failures, f"{len(failures)} distinct failure(s) of {count} inputs:\n" + "\n".join(
        failures.values()
    )


def _remove(root: Path) -> None:
    import shutil

    shutil.rmtree(root, ignore_errors=True)
