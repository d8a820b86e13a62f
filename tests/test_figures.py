"""Figures: each figure's claim checked from its data sidecar, not its pixels.

Plus the machinery: determinism, redraw-only-on-hash-change, and a light import.
Every figure is drawn once per module (the ``drawn`` fixture) to keep the suite fast.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import io
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from examdeck import figures
from examdeck.figures import em

REPO = Path(__file__).resolve().parents[1]
# Names that cards refer to: they must stay registered.
REQUIRED = {
    "loss-datasets",
    "gmm-datasets",
    "gelu-relu",
    "logreg-weight-norm",
    "mse-mae-outlier",
    "svm-support-vectors",
    "em-local-optima",
    "diffusion-forward",
}


# Draws every figure in another process (another hash seed) and prints the digests.
SECOND_RUN = (
    "import hashlib, json, examdeck.figures as f\n"
    "print(json.dumps({n: [{v: hashlib.sha256(png).hexdigest() for v, png in d.images.items()},"
    " hashlib.sha256(f.sidecar_bytes(d)).hexdigest()]"
    " for n, d in ((n, f.draw(n)) for n in f.figure_names())}))\n"
)


@pytest.fixture(scope="module")
def second_run() -> Iterator[subprocess.Popen[str]]:
    # Started before this process draws, so the two draw in parallel.
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    process = subprocess.Popen([sys.executable, "-c", SECOND_RUN], stdout=subprocess.PIPE,
                               text=True, env=env)
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def drawn(second_run: subprocess.Popen[str]) -> dict[str, figures.DrawnFigure]:
    return {name: figures.draw(name) for name in figures.figure_names()}


@pytest.fixture(scope="module")
def sidecar(drawn: dict[str, figures.DrawnFigure]) -> dict[str, Any]:
    # Claims are checked on the data as written to <name>.json, after a JSON round trip.
    return {name: json.loads(figures.sidecar_bytes(d))["data"] for name, d in drawn.items()}


# --- registry and code hash -------------------------------------------------------------


def test_registry_has_every_figure_cards_use() -> None:
    names = figures.figure_names()
    assert REQUIRED <= set(names)
    assert names == sorted(names)
    for spec in figures.FIGURES.values():
        assert spec.module.startswith("examdeck.figures.") and spec.data.isidentifier() and spec.plot.isidentifier()
        assert spec.title and spec.description and not spec.title.endswith(".")


def test_variants_are_the_styles() -> None:
    from examdeck.figures import style

    assert figures.VARIANTS == style.VARIANTS


def test_import_and_hash_do_not_load_matplotlib_or_numpy() -> None:
    code = (
        "import sys, examdeck.figures as f, examdeck.render\n"
        "[f.code_hash(n) for n in f.figure_names()]\n"
        "heavy = sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_code_hash_is_stable_and_distinct() -> None:
    hashes = {name: figures.code_hash(name) for name in figures.figure_names()}
    for digest in hashes.values():
        assert len(digest) == 64 and int(digest, 16) >= 0
    assert len(set(hashes.values())) == len(hashes)
    assert hashes == {name: figures.code_hash(name) for name in figures.figure_names()}


def test_code_hash_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no-such-figure"):
        figures.code_hash("no-such-figure")
    with pytest.raises(KeyError):
        figures.draw("no-such-figure")


def test_code_hash_covers_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    before = figures.code_hash("gmm-datasets")
    monkeypatch.setitem(figures.FIGURES["gmm-datasets"].parameters, "seed", 12345)
    assert figures.code_hash("gmm-datasets") != before


@pytest.fixture
def other_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Package metadata claims another numpy and matplotlib (as on another machine)."""
    real = importlib.metadata.version

    def fake(package: str) -> str:
        return {"matplotlib": "3.10.0", "numpy": "2.2.0"}.get(package) or real(package)

    monkeypatch.setattr(importlib.metadata, "version", fake)


def test_code_hash_ignores_library_versions(other_versions: None) -> None:
    # The committed hashes were computed with the real versions: still current.
    for name in figures.figure_names():
        assert figures.code_hash(name) == (REPO / "figures" / f"{name}.hash").read_text().strip(), name
    assert figures.running_matplotlib() == "3.10.0"


@pytest.mark.parametrize("module", ["examdeck.figures.losses", "examdeck.figures.style"])
def test_code_hash_covers_figure_and_style_source(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    before = figures.code_hash("loss-datasets")
    real = figures._source_text

    def edited(name: str) -> str:
        return real(name) + ("\n# edited" if name == module else "")

    monkeypatch.setattr(figures, "_source_text", edited)
    assert figures.code_hash("loss-datasets") != before


# --- sidecar precision ------------------------------------------------------------------


def test_rounded_keeps_12_significant_digits_and_refuses_what_json_cannot_hold() -> None:
    assert figures.rounded({"a": [0.1 + 0.2, 1, True, None, "x"], "b": (2.0 / 3.0,)}) == {
        "a": [0.3, 1, True, None, "x"], "b": [0.666666666667]}
    assert figures.rounded(-123456.78901234567) == -123456.789012
    assert figures.rounded(1.5e-300) == 1.5e-300
    for bad in (math.nan, math.inf, {1, 2}, object()):
        with pytest.raises((TypeError, ValueError)):
            figures.rounded(bad)


def test_sidecar_records_versions_and_precision(drawn: dict[str, figures.DrawnFigure]) -> None:
    import matplotlib

    document = json.loads(figures.sidecar_bytes(drawn["svm-support-vectors"]))
    assert document["figure"] == "svm-support-vectors"
    assert document["drawn_with"] == {"matplotlib": matplotlib.__version__, "numpy": np.__version__}
    assert document["floats"] == "rounded to 12 significant digits"


# --- images: determinism, resolution, night mode, text size -----------------------------


def _png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        chunks.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB values in [0, 1]."""
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    result: np.ndarray = linear @ np.array([0.2126, 0.7152, 0.0722])
    return result


def test_every_variant_is_sized_for_its_screen_opaque_and_themed(drawn: dict[str, figures.DrawnFigure]) -> None:
    import matplotlib.image
    from matplotlib.colors import to_rgb

    from examdeck.figures import style

    for name, figure in drawn.items():
        assert list(figure.images) == list(figures.VARIANTS), name
        for variant, png in figure.images.items():
            layout, theme = variant.split("-")
            chunks = dict(_png_chunks(png))
            assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & chunks.keys(), name
            width, _ = struct.unpack(">II", chunks[b"IHDR"][:8])
            # Phone: shown ~285-315 CSS px wide on a 360 px screen; desktop: at most ~850 px.
            assert width == {"desktop": 1400, "phone": 640}[layout], (name, variant)
            assert width <= 3.5 * style.SHOWN_AT_LEAST[layout]
            pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
            if pixels.shape[2] == 4:
                assert pixels[:, :, 3].min() == 1.0, (name, variant)
            background = to_rgb(style.PALETTES[theme].background)
            assert np.allclose(pixels[0, 0, :3], background, atol=1 / 255), (name, variant)
            mean = float(_luminance(pixels[:, :, :3].reshape(-1, 3)).mean())
            # Night mode: a dark image, not a glaring white box.
            assert (mean < 0.1) if theme == "dark" else (mean > 0.6), (name, variant, mean)


def test_phone_text_shows_at_least_at_the_phone_body_size() -> None:
    from examdeck.figures import style

    assert style.shown_px(style.MIN_POINTS, "phone") >= style.PHONE_BODY_PX
    sizes = [v for k, v in style.rc("light").items() if k == "font.size" or k.endswith(("titlesize", "labelsize", "legend.fontsize"))]
    assert len(sizes) == 7 and min(sizes) >= style.MIN_POINTS


def test_render_refuses_small_or_cut_text() -> None:
    from examdeck.figures import style

    def small(data: Any, canvas: style.Canvas) -> Any:
        fig = canvas.figure(desktop_height=3, phone_height=3)
        fig.subplots().set_title("tiny", fontsize=9)
        return fig

    def cut(data: Any, canvas: style.Canvas) -> Any:
        fig = canvas.figure(desktop_height=3, phone_height=3)
        fig.subplots().text(0.5, 1.5, "far past the edge of the image on the right", transform=None)
        fig.text(0.9, 0.5, "far past the edge of the image on the right")
        return fig

    with pytest.raises(ValueError, match="below 14"):
        style.render(small, None, "phone-light")
    with pytest.raises(ValueError, match="past the edge"):
        style.render(cut, None, "phone-dark")


def test_drawing_is_byte_identical_across_processes(
    drawn: dict[str, figures.DrawnFigure], second_run: subprocess.Popen[str]
) -> None:
    output, _ = second_run.communicate(timeout=600)
    assert second_run.returncode == 0
    here = {
        name: [{v: hashlib.sha256(png).hexdigest() for v, png in d.images.items()},
               hashlib.sha256(figures.sidecar_bytes(d)).hexdigest()]
        for name, d in drawn.items()
    }
    assert json.loads(output) == here


def _assert_close(committed: Any, regenerated: Any, where: str = "") -> None:
    """Same structure, same strings and integers, floats within a relative 1e-9 (BLAS kernels and
    numpy versions differ in the last digits of iterative results: at most ~5e-14 seen)."""
    if isinstance(committed, dict):
        assert isinstance(regenerated, dict) and committed.keys() == regenerated.keys(), where
        for key in committed:
            _assert_close(committed[key], regenerated[key], f"{where}.{key}")
    elif isinstance(committed, list):
        assert isinstance(regenerated, list) and len(committed) == len(regenerated), where
        for i, (a, b) in enumerate(zip(committed, regenerated)):
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(committed, float):
        assert isinstance(regenerated, float | int), where
        assert regenerated == pytest.approx(committed, rel=1e-9, abs=1e-300), where
    else:
        assert committed == regenerated and type(committed) is type(regenerated), where


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_committed_figure_is_current(name: str, drawn: dict[str, figures.DrawnFigure]) -> None:
    kept = figures.files(name, REPO / "figures")
    hint = "redraw with: examdeck figures --force " + name
    assert figures.is_current(name, REPO / "figures"), hint
    committed = figures.read_sidecar(kept.sidecar)
    assert committed["figure"] == name
    _assert_close(committed["data"], drawn[name].data, name)
    # Pixels depend on the matplotlib that draws them: compared only when it is the one that drew
    # the committed files (and the data are the same to the last digit).
    if committed["drawn_with"]["matplotlib"] == drawn[name].drawn_with["matplotlib"] and (
        committed["data"] == drawn[name].data
    ):
        for variant, path in kept.images.items():
            assert path.read_bytes() == drawn[name].images[variant], (variant, hint)


# The data of every figure, computed as draw() does, in a process told to use other kernels.
OTHER_KERNELS = (
    "import importlib, json, examdeck.figures as f\n"
    "print(json.dumps({n: f.rounded(getattr(importlib.import_module(s.module), s.data)(**s.parameters))"
    " for n, s in f.FIGURES.items()}))\n"
)


def test_sidecars_hold_on_other_blas_and_simd_kernels() -> None:
    """The CPU picks OpenBLAS's kernel and numpy's SIMD loops (np.exp, np.tanh): forcing others
    changes the last digits of the EM and logistic-regression iterates, not the committed data."""
    env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott"}
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__  # private: only to pick what to turn off
    except ImportError:  # pragma: no cover - other numpy
        __cpu_dispatch__ = []
    disable = [feature for feature in ("AVX512_SPR", "AVX512_ICL", "X86_V4", "X86_V3") if feature in __cpu_dispatch__]
    if disable:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disable)
    out = subprocess.run([sys.executable, "-c", OTHER_KERNELS], capture_output=True, text=True, env=env, check=True).stdout
    for name, data in json.loads(out).items():
        _assert_close(figures.read_sidecar(REPO / "figures" / f"{name}.json")["data"], data, name)


def test_committed_figures_are_drawn_with_the_pinned_matplotlib() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"matplotlib=={figures.MATPLOTLIB}"' in pyproject.split("figures = [", 1)[1].split("]", 1)[0]
    for name in figures.figure_names():
        document = figures.read_sidecar(REPO / "figures" / f"{name}.json")
        assert document["drawn_with"]["matplotlib"] == figures.MATPLOTLIB, name


# --- ensure_figure: redraw only when the code hash changes -------------------------------


@pytest.fixture
def draw_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def fake_draw(name: str) -> figures.DrawnFigure:
        calls.append(name)
        images = {v: b"png %d %s" % (len(calls), v.encode()) for v in figures.VARIANTS}
        return figures.DrawnFigure(name, images, {"call": len(calls)}, {"matplotlib": "0", "numpy": "0"})

    monkeypatch.setattr(figures, "draw", fake_draw)
    return calls


def _outputs(folder: Path, name: str) -> list[Path]:
    kept = figures.files(name, folder)
    return [*kept.images.values(), kept.sidecar, kept.hash]


def test_ensure_figure_writes_every_variant_sidecar_and_hash(tmp_path: Path, draw_calls: list[str]) -> None:
    folder = tmp_path / "figures"
    kept = figures.ensure_figure("gelu-relu", folder)
    assert kept.images == {v: folder / f"gelu-relu.{v}.png" for v in figures.VARIANTS}
    assert kept.images["phone-dark"].read_bytes() == b"png 1 phone-dark"
    assert figures.read_sidecar(folder / "gelu-relu.json")["data"] == {"call": 1}
    assert (folder / "gelu-relu.hash").read_text() == figures.code_hash("gelu-relu") + "\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in _outputs(folder, "gelu-relu"))  # no temp files


def test_ensure_figure_does_not_redraw_when_hash_matches(
    tmp_path: Path, draw_calls: list[str]
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    stamps = [p.stat().st_mtime_ns for p in _outputs(tmp_path, "gelu-relu")]
    figures.ensure_figure("gelu-relu", tmp_path)
    assert draw_calls == ["gelu-relu"]
    assert [p.stat().st_mtime_ns for p in _outputs(tmp_path, "gelu-relu")] == stamps
    figures.ensure_figure("gelu-relu", tmp_path, force=True)
    assert draw_calls == ["gelu-relu", "gelu-relu"]


def test_ensure_figure_redraws_when_hash_changes(
    tmp_path: Path, draw_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    monkeypatch.setitem(figures.FIGURES["gelu-relu"].parameters, "step", 0.5)
    figures.ensure_figure("gelu-relu", tmp_path)
    assert draw_calls == ["gelu-relu", "gelu-relu"]
    assert (tmp_path / "gelu-relu.desktop-light.png").read_bytes() == b"png 2 desktop-light"
    assert (tmp_path / "gelu-relu.hash").read_text().strip() == figures.code_hash("gelu-relu")


@pytest.mark.parametrize("damage", ["delete hash", "corrupt hash", "empty hash", "delete phone-dark.png",
                                    "delete json"])
def test_ensure_figure_redraws_missing_or_corrupt_outputs(
    tmp_path: Path, draw_calls: list[str], damage: str
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    action, ext = damage.split()
    target = tmp_path / f"gelu-relu.{ext}"
    if action == "delete":
        target.unlink()
    else:
        target.write_text("not a hash\n" if action == "corrupt" else "")
    figures.ensure_figure("gelu-relu", tmp_path)
    assert len(draw_calls) == 2
    assert all(p.exists() for p in _outputs(tmp_path, "gelu-relu"))


def test_failed_draw_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> figures.DrawnFigure:
        raise RuntimeError("boom")

    monkeypatch.setattr(figures, "draw", broken)
    with pytest.raises(RuntimeError):
        figures.ensure_figure("gelu-relu", tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyError):
        figures.ensure_figure("no-such-figure", tmp_path)


def test_write_all_ensures_every_figure(tmp_path: Path, draw_calls: list[str]) -> None:
    kept = figures.write_all(tmp_path)
    assert [k.name for k in kept] == figures.figure_names()
    assert draw_calls == figures.figure_names()
    figures.write_all(tmp_path)
    assert draw_calls == figures.figure_names()


def test_ensure_figure_writes_the_real_drawing(
    tmp_path: Path, drawn: dict[str, figures.DrawnFigure]
) -> None:
    kept = figures.ensure_figure("svm-support-vectors", tmp_path)
    assert {v: p.read_bytes() for v, p in kept.images.items()} == drawn["svm-support-vectors"].images
    assert kept.sidecar.read_bytes() == figures.sidecar_bytes(drawn["svm-support-vectors"])


def test_cli_figures_force_warns_under_another_matplotlib(
    tmp_path: Path, draw_calls: list[str], other_versions: None
) -> None:
    from click.testing import CliRunner

    from examdeck.cli import main

    out = str(tmp_path / "figs")
    first = CliRunner().invoke(main, ["figures", "gelu-relu", "--out", out])
    assert first.exit_code == 0 and "matplotlib 3.10.0 is installed" in first.output
    again = CliRunner().invoke(main, ["figures", "gelu-relu", "--out", out])
    assert again.exit_code == 0 and "matplotlib" not in again.output and draw_calls == ["gelu-relu"]
    forced = CliRunner().invoke(main, ["figures", "gelu-relu", "--out", out, "--force"])
    assert forced.exit_code == 0 and draw_calls == ["gelu-relu", "gelu-relu"]
    assert f"drawn with matplotlib=={figures.MATPLOTLIB}" in forced.output and "pip install -e '.[figures]'" in forced.output


# --- the build: committed figures are the release input -----------------------------------


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_other_library_versions_leave_the_package_and_figures_untouched(
    tmp_path: Path, figures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from examdeck.pipeline import BuildOptions, build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    def package(out: str) -> bytes:
        (built,), _ = build(REPO / "cards", BuildOptions(out_dir=tmp_path / out, figures_dir=figures_dir, math_check=False))
        return built.path.read_bytes()

    before = _snapshot(figures_dir)
    here = package("here")
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda dist: {"matplotlib": "3.10.0", "numpy": "2.2.0"}.get(dist) or real(dist))

    def no_drawing(name: str) -> figures.DrawnFigure:
        raise AssertionError(f"{name} was redrawn")

    monkeypatch.setattr(figures, "draw", no_drawing)
    assert package("elsewhere") == here
    assert _snapshot(figures_dir) == before


def test_a_build_with_nothing_changed_imports_no_matplotlib(tmp_path: Path, figures_dir: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from examdeck.pipeline import BuildOptions, build\n"
        f"build(Path({str(REPO / 'cards')!r}), BuildOptions(out_dir=Path({str(tmp_path)!r}), "
        f"figures_dir=Path({str(figures_dir)!r}), math_check=False))\n"
        "print(sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- figures in cards: every variant referenced, alt text, caption --------------------------


def test_figure_html_references_every_variant_with_alt_text() -> None:
    from examdeck.render import figure_html, figure_src

    block = figure_html("loss-datasets")
    images = re.findall(r'<img class="figure fig-(\w+) fig-(\w+)" src="([^"]+)" alt="([^"]*)">', block)
    assert [f"{layout}-{theme}" for layout, theme, _, _ in images] == list(figures.VARIANTS)
    assert [src for _, _, src, _ in images] == [figure_src("loss-datasets", v) for v in figures.VARIANTS]
    assert all(alt.startswith("Datasets A, B and C") for *_, alt in images)
    assert block.startswith('<figure class="figure-set">')
    assert "<figcaption>Figure 1 of the exam, redrawn from the exam&#x27;s description with data chosen to match its numbers." in block or (
        "<figcaption>Figure 1 of the exam, redrawn from the exam's description with data chosen to match its numbers." in block)
    inline = figure_html("gelu-relu", "My caption", inline=True)
    assert inline.startswith('<span class="figure-set">') and "figcaption" not in inline
    assert 'alt="My caption. GeLU z Phi(z)' in inline


def test_every_exam_figure_says_it_is_redrawn() -> None:
    for name, spec in figures.FIGURES.items():
        caption = figures.caption(name)
        assert (caption is not None) == (spec.exam is not None), name
        if caption:
            assert "redrawn from the exam's description" in caption and "match its numbers" in caption


def test_built_notes_carry_every_variant_as_imported_media(tmp_path: Path, figures_dir: Path) -> None:
    import sqlite3
    import zipfile

    from examdeck.pipeline import BuildOptions, build

    (built,), _ = build(REPO / "cards", BuildOptions(out_dir=tmp_path, figures_dir=figures_dir, math_check=False))
    with zipfile.ZipFile(built.path) as archive:
        media = json.loads(archive.read("media"))
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
        stored = {name: archive.read(index) for index, name in media.items()}
    fields = "\n".join(row[0] for row in sqlite3.connect(tmp_path / "c.anki2").execute("select flds from notes"))
    referenced = set(re.findall(r'src="([^"]+)"', fields))
    # Anki imports only media referenced from a field: every file shipped is referenced, and back.
    assert referenced == set(media.values())
    assert "figure:" not in fields and 'alt=""' not in fields
    for name in figures.figure_names():
        for variant in figures.VARIANTS:
            (shipped,) = [m for m in referenced if m.startswith(f"examdeck-{name}-{variant}-")]
            path = figures_dir / f"{name}.{variant}.png"
            assert stored[shipped] == path.read_bytes()
            assert shipped == f"examdeck-{name}-{variant}-{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.png"


# --- loss-datasets (Q1, Q2) -------------------------------------------------------------


def test_loss_datasets_have_the_exam_losses_exactly(sidecar: dict[str, Any]) -> None:
    data = sidecar["loss-datasets"]
    slope = Fraction(data["model"]["slope"])
    intercept = Fraction(data["model"]["intercept"])
    expected = {
        "A": (Fraction(9, 8), Fraction(3, 8)),
        "B": (Fraction(8, 8), Fraction(4, 8)),
        "C": (Fraction(5, 8), Fraction(5, 8)),
    }
    assert set(data["datasets"]) == set(expected)
    for key, (mse, mae) in expected.items():
        xs, ys = data["datasets"][key]["x"], data["datasets"][key]["y"]
        assert len(xs) == len(ys) == 8
        # Fraction(float) is exact, so these are the losses of the numbers in the file.
        residuals = [Fraction(y) - (slope * Fraction(x) + intercept) for x, y in zip(xs, ys)]
        assert sum(r * r for r in residuals) / 8 == mse, key
        assert sum(abs(r) for r in residuals) / 8 == mae, key


# --- gmm-datasets (Q8) ------------------------------------------------------------------


def _dataset(sidecar: dict[str, Any], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dataset = sidecar["gmm-datasets"]["datasets"][key]
    points, labels = np.array(dataset["points"]), np.array(dataset["labels"])
    centers = np.array(dataset["centers"])
    assert points.shape == (len(labels), 2) and set(labels.tolist()) == {0, 1, 2}
    # The + marks are the clusters' means.
    means = np.array([points[labels == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(centers, means, rtol=0, atol=1e-9)
    return points, labels, centers


def _nearest_own_center_margin(points: np.ndarray, labels: np.ndarray,
                               centers: np.ndarray) -> np.ndarray:
    """Per point: distance to the nearest other center minus distance to its own (> 0: stays)."""
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    own = distances[np.arange(len(points)), labels]
    distances[np.arange(len(points)), labels] = np.inf
    result: np.ndarray = distances.min(axis=1) - own
    return result


def _lloyd(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    for _ in range(100):
        centers = np.array([points[labels == k].mean(axis=0) for k in range(3)])
        new = np.linalg.norm(points[:, None] - centers[None], axis=2).argmin(axis=1)
        if (new == labels).all():
            break
        labels = new
    return labels


def test_gmm_datasets_has_four_datasets(sidecar: dict[str, Any]) -> None:
    assert sorted(sidecar["gmm-datasets"]["datasets"]) == ["A", "B", "C", "D"]


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_kmeans_can_cluster_a_b_c(sidecar: dict[str, Any], key: str) -> None:
    points, labels, centers = _dataset(sidecar, key)
    # Every point strictly nearest its own mean: the true partition is a fixed point of
    # K-means, so K-means started there (or anywhere converging there) returns it.
    assert _nearest_own_center_margin(points, labels, centers).min() > 1e-6
    assert (_lloyd(points, labels) == labels).all()


def test_kmeans_cannot_cluster_d(sidecar: dict[str, Any]) -> None:
    points, labels, centers = _dataset(sidecar, "D")
    # K-means only ever stops at partitions where each point is nearest its own mean; in D
    # some point is strictly nearer another cluster's mean, so no K-means run returns D.
    assert _nearest_own_center_margin(points, labels, centers).min() < -0.1
    assert (_lloyd(points, labels) != labels).any()


def test_a_b_or_c_has_a_non_spherical_cluster(sidecar: dict[str, Any]) -> None:
    ratios = []
    for key in "ABC":
        points, labels, _ = _dataset(sidecar, key)
        for k in range(3):
            eigenvalues = np.linalg.eigvalsh(np.cov(points[labels == k].T))
            ratios.append(eigenvalues[-1] / eigenvalues[0])
    assert max(ratios) > 4


def test_gaussian_mixture_recovers_d(sidecar: dict[str, Any]) -> None:
    points, labels, _ = _dataset(sidecar, "D")
    start = em.mixture_from_labels(points, labels)
    fitted, trace = em.fit_gmm(points, start)
    assert trace[-1] - trace[-2] < 1e-6 * len(points)  # converged
    predicted = em.responsibilities(points, fitted).argmax(axis=1)
    assert (predicted == labels).all()


# --- gelu-relu (Q34) --------------------------------------------------------------------


def _at(data: dict[str, Any], key: str, z: float) -> float:
    index = min(range(len(data["z"])), key=lambda i: abs(data["z"][i] - z))
    assert abs(data["z"][index] - z) < 1e-9
    return float(data[key][index])


def test_gelu_derivative_is_correct(sidecar: dict[str, Any]) -> None:
    data = sidecar["gelu-relu"]
    # Phi(z) + z phi(z), from tables: Phi(1) = 0.8413447, phi(1) = 0.2419707,
    # Phi(2) = 0.9772499, phi(2) = 0.0539910.
    expected = {0.0: 0.5, 1.0: 1.0833154, -1.0: -0.0833154, 2.0: 1.0852318, -2.0: -0.0852318}
    for z, value in expected.items():
        assert _at(data, "gelu_prime", z) == pytest.approx(value, abs=1e-6), z
        assert _at(data, "gelu", z) == pytest.approx(z * 0.5 * (1 + math.erf(z / math.sqrt(2))))
    # The plotted derivative is the derivative of the plotted curve (central differences).
    grid, gelu = np.array(data["z"]), np.array(data["gelu"])
    numeric = (gelu[2:] - gelu[:-2]) / (grid[2:] - grid[:-2])
    np.testing.assert_allclose(numeric, np.array(data["gelu_prime"])[1:-1], atol=2e-4)
    sig = np.array(data["gelu_sigmoid"])
    numeric = (sig[2:] - sig[:-2]) / (grid[2:] - grid[:-2])
    np.testing.assert_allclose(numeric, np.array(data["gelu_sigmoid_prime"])[1:-1], atol=2e-4)


def test_gelu_derivative_matches_relu_only_far_from_zero(sidecar: dict[str, Any]) -> None:
    data = sidecar["gelu-relu"]
    z = np.array(data["z"])
    gap = np.abs(np.array(data["gelu_prime"]) - np.array(data["relu_prime"]))
    assert gap[np.abs(z) >= 3.5].max() < 0.01  # -> 0 and -> 1 in the tails, like ReLU
    assert gap[np.abs(z) <= 0.3].min() > 0.25  # near 0 they differ
    assert min(data["gelu_prime"]) < -0.1 and max(data["gelu_prime"]) > 1.1


# --- logreg-weight-norm (Q5) -------------------------------------------------------------


def _logistic(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (with the bias column), the labels as signs 2y - 1 in {-1, +1}, and theta."""
    points = np.array(run["points"])
    labels = np.array(run["labels"])
    assert set(labels.tolist()) == {0, 1}  # the cards' convention
    return np.column_stack([points, np.ones(len(points))]), 2 * labels - 1, np.array(run["theta"])


def test_logreg_norm_grows_without_bound_on_separable_data(sidecar: dict[str, Any]) -> None:
    data = sidecar["logreg-weight-norm"]
    iterations = np.array(data["iterations"])
    norms = np.array(data["runs"]["separable"]["norms"])
    features, signs, theta = _logistic(data["runs"]["separable"])
    assert (signs * (features @ theta) > 0).all()  # certificate: the data is separable
    assert (np.diff(norms) > 0).all()
    assert norms[-1] > 10
    # Still gaining more than 1 per decade of iterations at the end: no sign of a limit.
    assert norms[-1] - np.interp(iterations[-1] / 10, iterations, norms) > 1.0
    bounded = data["runs"]["not_separable"]["norms"][-1]
    assert norms[-1] > 3 * bounded


def test_logreg_norm_is_bounded_on_non_separable_data(sidecar: dict[str, Any]) -> None:
    data = sidecar["logreg-weight-norm"]
    run = data["runs"]["not_separable"]
    features, signs, theta = _logistic(run)
    labels = np.array(run["labels"])
    separable_points = np.array(data["runs"]["separable"]["points"])
    points = features[:, :2]
    # Certificate of non-separability: a point at the midpoint of two points of the other class.
    for index, intruder in enumerate(data["intruders"], start=len(separable_points)):
        ends = points[intruder["midpoint_of"]]
        assert labels[index] == intruder["label"]
        assert (labels[intruder["midpoint_of"]] == 1 - intruder["label"]).all()
        np.testing.assert_allclose(points[index], ends.mean(axis=0), atol=1e-12)
    # Gradient descent stopped at a finite minimiser: zero gradient, flat norm.
    margins = signs * (features @ theta)
    gradient = -(signs / (1 + np.exp(margins))) @ features / len(signs)
    assert np.linalg.norm(gradient) < 1e-8
    iterations, norms = np.array(data["iterations"]), np.array(run["norms"])
    assert norms[-1] - np.interp(iterations[-1] / 2, iterations, norms) < 1e-9


# --- mse-mae-outlier (Q18) --------------------------------------------------------------


def _shift(a: dict[str, float], b: dict[str, float], xs: np.ndarray) -> float:
    """Largest change in prediction between two lines over the data's x range."""
    return max(abs((a["slope"] - b["slope"]) * float(x) + a["intercept"] - b["intercept"])
               for x in (xs.min(), xs.max()))


def test_mae_fit_barely_moves_under_an_outlier(sidecar: dict[str, Any]) -> None:
    data = sidecar["mse-mae-outlier"]
    x, y = np.array(data["x"]), np.array(data["y"])
    clean = np.arange(len(x)) != data["outlier_index"]
    fits = data["fits"]
    for key, mask in (("", np.ones(len(x), bool)), ("_without_outlier", clean)):
        xs, ys = x[mask], y[mask]
        slope, intercept = np.polyfit(xs, ys, 1)
        assert fits["mse" + key]["slope"] == pytest.approx(slope, abs=1e-9)
        assert fits["mse" + key]["intercept"] == pytest.approx(intercept, abs=1e-9)
        # The stored MAE line is optimal: no line through two data points (where an L1
        # optimum always lies) does better.
        mae = fits["mae" + key]
        stored = np.abs(ys - mae["slope"] * xs - mae["intercept"]).sum()
        for i in range(len(xs)):
            for j in range(i + 1, len(xs)):
                s = (ys[j] - ys[i]) / (xs[j] - xs[i])
                assert stored <= np.abs(ys - s * (xs - xs[i]) - ys[i]).sum() + 1e-9
    assert _shift(fits["mae"], fits["mae_without_outlier"], x) < 0.3
    assert _shift(fits["mse"], fits["mse_without_outlier"], x) > 2.0
    # The plot draws one dotted line for "either fit without the outlier".
    assert _shift(fits["mse_without_outlier"], fits["mae_without_outlier"], x) < 0.3


# --- svm-support-vectors (Q22) -----------------------------------------------------------


def test_svm_has_more_than_2d_points_on_the_margin(sidecar: dict[str, Any]) -> None:
    data = sidecar["svm-support-vectors"]
    points, labels = np.array(data["points"]), np.array(data["labels"])
    w, b = np.array(data["w"]), data["b"]
    functional = labels * (points @ w + b)
    assert functional.min() >= 1 - 1e-9
    on_margin = np.flatnonzero(np.abs(functional - 1) <= 1e-9)
    assert on_margin.tolist() == data["on_margin"]
    assert len(on_margin) > 2 * points.shape[1]
    # Optimality (KKT): w = sum a_i y_i x_i and sum a_i y_i = 0 with a_i >= 0 on margin points.
    system = np.vstack([(labels[on_margin, None] * points[on_margin]).T, labels[on_margin]])
    target = np.append(w, 0.0)
    alpha = system.T @ np.linalg.solve(system @ system.T, target)
    assert (alpha >= 0).all()
    np.testing.assert_allclose(system @ alpha, target, atol=1e-12)
    # And independently: no direction separates the classes with a wider margin.
    angles = np.linspace(-math.pi, math.pi, 7201)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    projected = points @ directions.T
    margins = (projected[labels == 1].min(axis=0) - projected[labels == -1].max(axis=0)) / 2
    assert margins.max() <= 1 / np.linalg.norm(w) + 1e-12


# --- em-local-optima (Q24) ---------------------------------------------------------------


def _mixture_log_likelihood(x: np.ndarray, params: dict[str, Any]) -> float:
    weights = np.array(params["weights"])
    means = np.array(params["means"])[:, 0]
    variances = np.array(params["covariances"])[:, 0, 0]
    density = (weights * np.exp(-0.5 * (x[:, None] - means) ** 2 / variances)
               / np.sqrt(2 * math.pi * variances)).sum(axis=1)
    return float(np.log(density).sum())


def test_em_runs_end_at_different_log_likelihoods(sidecar: dict[str, Any]) -> None:
    data = sidecar["em-local-optima"]
    x = np.array(data["x"])
    finals = []
    for name, run in data["runs"].items():
        trace = np.array(run["log_likelihood"])
        assert len(trace) == 61  # the start, then a fixed number of steps: the same on every machine
        assert (np.diff(trace) >= -1e-9).all(), name  # EM never decreases the likelihood
        assert trace[-1] - trace[-2] < 1e-6 * len(x), name  # converged
        assert trace[0] == pytest.approx(_mixture_log_likelihood(x, run["start"]), rel=1e-9)
        assert trace[-1] == pytest.approx(_mixture_log_likelihood(x, run["final"]), rel=1e-9)
        # A fixed point of EM: one more step changes nothing that matters.
        final = em.Mixture(*(np.array(run["final"][k]) for k in ("weights", "means",
                                                                   "covariances")))
        step = em.em_step(x[:, None], final)
        np.testing.assert_allclose(step.means, final.means, atol=1e-3)
        finals.append(trace[-1])
    assert len(finals) == 2
    assert abs(finals[0] - finals[1]) > 0.05 * len(x)  # 0.05 nats per point: a clear gap


# --- diffusion-forward (Q39) -------------------------------------------------------------


def test_forward_diffusion_approaches_standard_normal(sidecar: dict[str, Any]) -> None:
    data = sidecar["diffusion-forward"]
    edges = np.array(data["edges"])
    centres, n, alpha = (edges[:-1] + edges[1:]) / 2, data["samples"], data["alpha"]
    phi = np.array([0.5 * (1 + math.erf(e / math.sqrt(2))) for e in edges])
    normal_mass = np.diff(phi)
    snapshots = data["snapshots"]
    steps = [s["t"] for s in snapshots]
    assert steps == sorted(steps) and steps[0] == 0

    def distance_to_normal(snapshot: dict[str, Any]) -> float:
        mass = np.array(snapshot["counts"]) / n
        return float(np.abs(mass - normal_mass).sum())

    first, last = snapshots[0], snapshots[-1]
    assert distance_to_normal(first) > 0.5  # the data is far from N(0, 1)...
    counts = np.array(first["counts"])
    assert counts[np.abs(centres) < 0.5].sum() < 0.01 * n  # ...and bimodal: empty middle
    assert last["alpha_bar"] < 1e-3
    assert last["below"] == last["above"] == 0
    counts = np.array(last["counts"])
    mean = (counts * centres).sum() / n
    var = (counts * (centres - mean) ** 2).sum() / n
    assert abs(mean) < 0.05 and abs(var - 1) < 0.05
    assert distance_to_normal(last) < 0.05
    # In between, mean and variance follow x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps.
    for snapshot in snapshots:
        abar = snapshot["alpha_bar"]
        assert abar == pytest.approx(alpha ** (2 * snapshot["t"]))
        assert snapshot["mean"] == pytest.approx(math.sqrt(abar) * first["mean"], abs=0.03)
        assert snapshot["var"] == pytest.approx(abar * first["var"] + 1 - abar, abs=0.05)


# --- in the browser: the note type's CSS shows the variant for the screen and the theme -----

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = {"phone-light": (360, False), "phone-dark": (360, True), "desktop-light": (1280, False),
           "desktop-dark": (1280, True)}


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_css_shows_one_variant_per_screen_and_theme(tmp_path: Path) -> None:
    from examdeck.assemble import link_figures
    from examdeck.notetypes import CSS
    from examdeck.render import figure_html

    names = {}
    for variant in figures.VARIANTS:
        shutil.copyfile(REPO / "figures" / f"svm-support-vectors.{variant}.png", tmp_path / f"{variant}.png")
        names["svm-support-vectors", variant] = f"{variant}.png"
    # In the question and in the explanation panel (the narrowest place a figure is shown).
    fields = link_figures({"Figure": figure_html("svm-support-vectors"),
                           "Explanation": "<p>" + figure_html("svm-support-vectors", "SVM", inline=True) + "</p>"},
                          ["svm-support-vectors"], names)
    for screen, (_, night) in SCREENS.items():
        body = "card nightMode night_mode" if night else "card"
        (tmp_path / f"{screen}.html").write_text(
            f'<!doctype html><html><head><meta charset="utf-8"><style>body {{ margin: 20px; }}\n{CSS}</style></head>'
            f'<body class="{body}"><div class="examdeck open back"><div class="figure-box">{fields["Figure"]}</div>'
            f'<div class="explanation">{fields["Explanation"]}</div></div></body></html>', encoding="utf-8")
    # Chromium's window is at least 500 px wide: a phone is an iframe 360 px wide.
    frames = "".join(f'<iframe id="{s}" src="{s}.html" width="{w}" height="3000"></iframe>' for s, (w, _) in SCREENS.items())
    script = (
        "addEventListener('load', () => { const out = {};"
        " for (const f of document.querySelectorAll('iframe')) { out[f.id] = [...f.contentDocument.querySelectorAll('img')]"
        " .filter(i => getComputedStyle(i).display !== 'none')"
        " .map(i => [i.className, i.getBoundingClientRect().width, i.naturalWidth, i.complete]); }"
        " document.body.dataset.shown = JSON.stringify(out); });"
    )
    (tmp_path / "index.html").write_text(f"<!doctype html><html><body>{frames}<script>{script}</script></body></html>")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
               "--window-size=1400,1000", "--dump-dom", (tmp_path / "index.html").as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True).stdout
    shown = json.loads(html.unescape(re.search(r'data-shown="([^"]*)"', dom).group(1)))  # type: ignore[union-attr]
    for screen, images in shown.items():
        layout, theme = screen.split("-")
        # Exactly one variant of each figure is shown, the screen's, loaded...
        assert [cls for cls, *_ in images] == [f"figure fig-{layout} fig-{theme}"] * 2, screen
        for _, width, natural, complete in images:
            assert complete and natural == {"phone": 640, "desktop": 1400}[layout], screen
            # ...at no less than 1/3.5 of its pixel width, so its 14 pt text is at least 17 px on a phone.
            assert natural <= 3.5 * width, (screen, width)
            if layout == "phone":
                from examdeck.figures import style

                assert 14 * style.DPI / 72 * width / natural >= style.PHONE_BODY_PX, (screen, width)
