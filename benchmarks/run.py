#!/usr/bin/env python3
"""run.py -- examdeck against ankdown and the genanki floor, whole processes, medians.

    python benchmarks/run.py                       # N = 100, 1,000, 10,000; 5 runs each
    python benchmarks/run.py --sizes 100 --repeat 1 # a quick look

For each N, the commands run in alternation (floor, ankdown, examdeck cold, examdeck cold
filling an empty cache, examdeck after a one-card edit), each one a fresh process; the table
gives each one's median wall time and its ratio to the genanki floor measured in the same run,
its median CPU time (user + system, children included) and that ratio, and its peak resident
memory (the largest process of its tree: os.wait4's ru_maxrss). On a busy machine wall times and
their ratios drift (examdeck's two-core pass gains nothing when the cores are taken), CPU times
much less. Then the shipped deck (nothing changed, and from clean: figures drawn, formulas
checked) against the floor at the same number of notes, and the math check's throughput.

Needs ../shared/bench (make_corpus.py, floor_genanki.py; from elsewhere, e.g. a git worktree:
EXAMDECK_BENCH_SHARED=DIR), `pip install ankdown`, and for the math rows `npm ci --prefix mathjax`.
Everything is written under a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
EXAMDECK = [PY, "-m", "examdeck"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import SHARED_BENCH as SHARED  # noqa: E402  (../shared/bench, or $EXAMDECK_BENCH_SHARED)

sys.path.insert(0, str(SHARED))


@dataclass
class Command:
    name: str
    argv: Callable[[int], list[str]]  # run number -> argv
    prepare: Callable[[int], None] = lambda run: None
    cwd: Path | None = None
    times: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system seconds of the process and its children
    peaks: list[int] = field(default_factory=list)  # KiB


def bench_env() -> dict[str, str]:
    """As on a user's machine: compiled modules cached (some sandboxes set PYTHONDONTWRITEBYTECODE)."""
    env = dict(os.environ)
    for name in ("SOURCE_DATE_EPOCH", "PYTHONDONTWRITEBYTECODE", "EXAMDECK_JOBS"):
        env.pop(name, None)
    return env


def measure(argv: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """Wall time of one process (and its children), its CPU time (user + system, children included:
    less sensitive than wall time to other processes on the machine, blind to running on two cores)
    and the peak RSS of its tree, in KiB."""
    env = bench_env()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.read().decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_alternating(commands: list[Command], repeat: int) -> None:
    for command in commands:  # untimed: compiles and caches every module once
        command.prepare(-1)
        measure(command.argv(-1), command.cwd)
    for run in range(repeat):
        for command in commands:
            command.prepare(run)
            elapsed, cpu, peak = measure(command.argv(run), command.cwd)
            command.times.append(elapsed)
            command.cpus.append(cpu)
            command.peaks.append(peak)
        print(f"  run {run + 1}/{repeat} done", file=sys.stderr)


def median(values: list[float]) -> float:
    return statistics.median(values)


def ankdown_script() -> str:
    script = Path(sysconfig.get_path("scripts")) / "ankdown"
    if not script.is_file():
        sys.exit("ankdown is not installed: pip install ankdown")
    return str(script)


def one_edit(cards: Path) -> Callable[[int], None]:
    """Before run k: change card 5's question to a text never built before (a real edit)."""
    part = cards / "part-0000.yaml"
    original = part.read_text(encoding="utf-8")

    def prepare(run: int) -> None:
        text, count = re.subn(r"Card 5: ", f"Card 5 (edit {run} {time.time_ns()}): ", original, count=1)
        assert count == 1
        part.write_text(text, encoding="utf-8")

    return prepare


def size_rows(n: int, work: Path, repeat: int) -> list[Command]:
    import corpus
    import make_corpus

    make_corpus.main(n, str(work / "peers"))
    corpus.write_corpus(n, work / "cards")
    cards = work / "cards"
    build = [*EXAMDECK, "build", str(cards), "--no-math-check", "--figures-dir", str(work / "figures")]
    # The warm cache of the one-card-edit runs: one untimed build first.
    subprocess.run([*build, "--out", str(work / "warm"), "--cache-dir", str(work / "cache")], check=True,
                   stdout=subprocess.DEVNULL, env=bench_env())

    def fresh_cache(run: int) -> None:
        shutil.rmtree(work / "fresh-cache", ignore_errors=True)

    return [
        Command("genanki floor", lambda run: [PY, str(SHARED / "floor_genanki.py"), str(n), str(work / "floor.apkg")]),
        Command("ankdown", lambda run: [PY, ankdown_script(), "-r", str(work / "peers" / "ankdown"),
                                        "-p", str(work / "ankdown.apkg")]),
        Command("examdeck cold (--no-cache)", lambda run: [*build, "--out", str(work / "cold"), "--no-cache"]),
        Command("examdeck cold, filling an empty cache",
                lambda run: [*build, "--out", str(work / "fill"), "--cache-dir", str(work / "fresh-cache")],
                prepare=fresh_cache),
        Command("examdeck after a one-card edit",
                lambda run: [*build, "--out", str(work / "warm"), "--cache-dir", str(work / "cache")],
                prepare=one_edit(cards)),
    ]


def default_deck_rows(work: Path) -> tuple[list[Command], int]:
    cards = work / "cards"
    shutil.copytree(REPO / "cards", cards)
    shutil.copytree(REPO / "figures", work / "figures")
    warm = [*EXAMDECK, "build", str(cards), "--out", str(work / "out"), "--figures-dir", str(work / "figures")]
    subprocess.run(warm, check=True, stdout=subprocess.DEVNULL, env=bench_env())
    notes = json.loads(subprocess.run([*EXAMDECK, "list", str(cards), "--format", "json"], check=True,
                                      capture_output=True, text=True).stdout)
    active = notes["statuses"].get("active", 0) + notes["statuses"].get("retired", 0)

    def clean(run: int) -> None:
        for name in ("clean-figures", "clean-out"):
            shutil.rmtree(work / name, ignore_errors=True)

    return [
        Command(f"genanki floor, {active} notes",
                lambda run: [PY, str(SHARED / "floor_genanki.py"), str(active), str(work / "floor.apkg")]),
        Command("default deck, nothing changed", lambda run: warm),
        Command("default deck from clean (figures, formulas)",
                lambda run: [*EXAMDECK, "build", str(cards), "--out", str(work / "clean-out"),
                             "--figures-dir", str(work / "clean-figures")],
                prepare=clean),
    ], active


MATH_SCRIPT = """
import json, sys
from examdeck.mathcheck import Formula, check_formulas
formulas = [Formula(tex, display) for tex, display in json.load(open(sys.argv[1]))]
result = check_formulas(formulas)
assert result.engine.startswith("mathjax"), result.warning
"""


def corpus_formulas(count_cards: int) -> tuple[list[tuple[str, bool]], int]:
    """The unique formulas of the first `count_cards` corpus cards, and how many there are in all."""
    from make_corpus import card_md

    formulas = []
    for i in range(count_cards):
        for text in card_md(i):
            for match in re.finditer(r"\$\$(.+?)\$\$|\$(.+?)\$", text, re.S):
                formulas.append((match.group(1) or match.group(2), match.group(1) is not None))
    return list(dict.fromkeys(formulas)), len(formulas)


def math_rows(work: Path, sizes: list[int]) -> tuple[list[Command], dict[str, tuple[int, int]]]:
    import corpus

    work.mkdir(parents=True, exist_ok=True)
    commands, counts = [], {}
    for count_cards in sizes:
        unique, total = corpus_formulas(count_cards)
        batch = work / f"formulas-{count_cards}.json"
        batch.write_text(json.dumps(unique))
        name = f"check the {len(unique):,} new formulas of {count_cards:,} cards"
        counts[name] = (len(unique), total)
        commands.append(Command(name, lambda run, batch=batch: [PY, "-c", MATH_SCRIPT, str(batch)]))
    corpus.write_corpus(sizes[0], work / "cards")
    check = [*EXAMDECK, "check", str(work / "cards"), "--cache-dir", str(work / "cache")]
    subprocess.run(check, check=True, stdout=subprocess.DEVNULL, env=bench_env())  # every verdict cached
    commands += [
        Command(f"examdeck check, {sizes[0]:,} cards, every formula cached", lambda run: check),
        Command(f"examdeck check, {sizes[0]:,} cards, --no-math-check", lambda run: [*check, "--no-math-check"]),
    ]
    return commands, counts


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()}"


def genanki_version() -> str:
    from importlib.metadata import version

    return version("genanki")


def load_average() -> str:
    """The machine's 1-minute load average (other processes compete for the cores)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def table(title: str, commands: list[Command], floor: Command | None) -> str:
    lines = [f"**{title}**", "", "| command | median | × floor | CPU time | × floor | peak memory |", "|---|---|---|---|---|---|"]
    base = median(floor.times) if floor else None
    base_cpu = median(floor.cpus) if floor else None
    for command in commands:
        m, cpu = median(command.times), median(command.cpus)
        ratio = f"{m / base:.2f}" if base else "–"
        cpu_ratio = f"{cpu / base_cpu:.2f}" if base_cpu else "–"
        lines.append(f"| {command.name} | {m:.3f} s | {ratio} | {cpu:.3f} s | {cpu_ratio} | {max(command.peaks) / 1024:.0f} MiB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated numbers of cards")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (the median is shown)")
    parser.add_argument("--skip-default", action="store_true", help="skip the shipped deck's rows")
    parser.add_argument("--skip-math", action="store_true", help="skip the math check's rows")
    args = parser.parse_args()
    if not (SHARED / "make_corpus.py").is_file():
        sys.exit(f"{SHARED} not found: the benchmark needs ../shared/bench (or set EXAMDECK_BENCH_SHARED)")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    out = [f"Run on {datetime.date.today().isoformat()}: {machine()}, genanki {genanki_version()}; median of "
           f"{args.repeat} whole-process runs, in alternation; load average before: {load_average()}."]
    with tempfile.TemporaryDirectory(prefix="examdeck-bench-") as tmp:
        for n in sizes:
            print(f"N = {n:,}", file=sys.stderr)
            commands = size_rows(n, Path(tmp) / f"n{n}", args.repeat)
            run_alternating(commands, args.repeat)
            out.append(table(f"{n:,} cards", commands, commands[0]))
        if not args.skip_default:
            print("default deck", file=sys.stderr)
            commands, notes = default_deck_rows(Path(tmp) / "default")
            run_alternating(commands, args.repeat)
            out.append(table(f"The shipped deck ({notes} notes)", commands, commands[0]))
        if not args.skip_math:
            print("math check", file=sys.stderr)
            commands, counts = math_rows(Path(tmp) / "math", [1000, 5000])
            run_alternating(commands, args.repeat)
            rates = [f"{name}: {unique:,} unique of {total:,} in {median(c.times):.2f} s = "
                     f"**{unique / median(c.times):,.0f} new formulas/s**"
                     for c in commands for name, (unique, total) in counts.items() if c.name == name]
            out.append(table("Math check (whole processes, Node start included)", commands, None)
                       + "\n\n" + "\n".join(f"- {r}" for r in rates))
    print("\n\n".join(out))


if __name__ == "__main__":
    main()
