"""Drawing the graph: ``depchain graph`` of an installed environment as Mermaid and as
DOT, each a fresh process, against pipdeptree drawing the same environment
(``pipdeptree --mermaid`` and ``--graph-output dot``; pipdeptree draws the Python
distributions only, depchain also their native libraries and OS packages); then, in
this process, each stage on three inputs (examples/webapp, the environment, a
generated 2,000-package uv.lock): building the picture, DOT, Mermaid, the HTML report,
and SVG through Graphviz's ``dot`` where it is installed.

    python3 benchmarks/bench_graph.py [--venv DIR] [--repeat N] [--packages N]

Medians of ``--repeat`` (default 5) interleaved runs; wall and CPU seconds. The
environment and the peers' virtual environment are bench_environment.py's (made on
first use, which needs the package index once; later runs are offline).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_environment import (  # noqa: E402
    PINS,
    Run,
    _bench_dir,
    _line,
    _median,
    _timed,
    _venv,
)
from bench_large_inputs import uv_lock  # noqa: E402

REPO = HERE.parent


def _pipdeptree(tools: Path) -> Path:
    """pipdeptree and the graphviz library its DOT output needs, installed once."""
    exe = tools / "bin" / "pipdeptree"
    probe = [str(tools / "bin" / "python"), "-c", "import graphviz"]
    if not exe.exists() or subprocess.run(probe, capture_output=True).returncode:
        print(f"installing pipdeptree and graphviz into {tools}...", flush=True)
        pip = [str(tools / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "pipdeptree", "graphviz"], check=True)
    return exe


def _stage(name: str, work: Callable[[], object], repeat: int) -> tuple[str, object]:
    walls, cpus, value = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    walls.sort()
    cpus.sort()
    return (
        f"    {name:<14} {walls[len(walls) // 2]:7.3f} s wall {cpus[len(cpus) // 2]:7.3f} s CPU",
        value,
    )


def _in_process(label: str, target: Path, repeat: int, python: Path | None = None) -> None:
    from depchain import picture
    from depchain.render import dot, html, mermaid
    from depchain.scanner import scan

    result = scan(target, python=python)
    line, drawn = _stage("picture", lambda: picture.build(result), repeat)
    assert isinstance(drawn, picture.Picture)
    fitted = picture.build(result, limit=(picture.DRAWN_NODES, picture.DRAWN_EDGES))
    print(
        f"  {label}: {len(drawn.nodes)} nodes, {len(drawn.edges)} edges "
        f"(drawn once: {len(fitted.nodes)} nodes, {len(fitted.edges)} edges)"
    )
    print(line)
    line, text = _stage("DOT", lambda: dot.render(fitted), repeat)
    print(line + f"   {len(str(text)) / 1024:8.0f} KiB")
    line, text = _stage("Mermaid", lambda: mermaid.render(fitted), repeat)
    print(line + f"   {len(str(text)) / 1024:8.0f} KiB")
    line, text = _stage("HTML report", lambda: html.render(result, drawn), repeat)
    print(line + f"   {len(str(text)) / 1024:8.0f} KiB")
    if shutil.which("dot"):
        source = dot.render(fitted)
        line, svg = _stage("SVG (dot)", lambda: dot.to_svg(source), 1)
        print(line + f"   {len(bytes(svg)) / 1024:8.0f} KiB  (one run)")  # type: ignore[arg-type]
    else:
        print("    SVG (dot)      skipped: Graphviz's dot is not installed")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, help="an existing environment to draw")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--packages", type=int, default=2000, help="packages in the lock")
    args = parser.parse_args()
    bench = _bench_dir()
    venv = (args.venv or _venv(bench / "env-venv", requirements=PINS).parent.parent).absolute()
    python = venv / "bin" / "python"
    tools = _venv(bench / "cdx-tool", "pipdeptree", "graphviz").parent.parent
    peer = str(_pipdeptree(tools))
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": "0",
        "DEPCHAIN_ENRICH": "0",
        "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p),
    }
    ours = [sys.executable, "-m", "depchain", "graph", "--python", str(python), "--no-audit"]
    commands = {
        "depchain mermaid": [*ours, "-f", "mermaid"],
        "pipdeptree --mermaid": [peer, "--python", str(python), "--mermaid"],
        "depchain dot": [*ours, "-f", "dot"],
        "pipdeptree dot": [peer, "--python", str(python), "--graph-output", "dot"],
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for name, command in commands.items():  # warm the page cache, and check the output
        done = subprocess.run(command, env=env, capture_output=True, timeout=300)
        if done.returncode not in (0, 1) or not done.stdout.strip():
            sys.exit(f"{name} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    for _ in range(max(1, args.repeat)):
        for name, command in commands.items():
            runs[name].append(_timed(command, env))
    print(f"environment: {venv}")
    print(f"medians of {args.repeat} runs, each a fresh process:")
    for name, taken in runs.items():
        print(_line(name, taken))
    for ours_name, peer_name in (
        ("depchain mermaid", "pipdeptree --mermaid"),
        ("depchain dot", "pipdeptree dot"),
    ):
        a, b = _median(runs[ours_name]), _median(runs[peer_name])
        print(
            f"ratio {ours_name} / {peer_name}: {a.wall / b.wall:.2f} wall, {a.cpu / b.cpu:.2f} CPU"
        )
    os.environ["DEPCHAIN_ENRICH"] = "0"
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    print("stages, in this process (medians):")
    _in_process("examples/webapp", REPO / "examples" / "webapp", args.repeat)
    _in_process(f"environment {venv.name}", venv, args.repeat)
    with tempfile.TemporaryDirectory(prefix="depchain-bench-") as tmp:
        lock = uv_lock(Path(tmp), args.packages)
        _in_process(f"{args.packages}-package uv.lock", lock, max(1, args.repeat // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
