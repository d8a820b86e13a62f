"""What students see: the lifted formulas (a norm in a table, `<Y>`, Anki's delimiters, wrapped lines)
and an image of the deck folder, typeset and loaded by MathJax in headless Chromium (the preview page
uses Anki's MathJax configuration)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from examdeck.preview import write_preview
from test_preview import CHROMIUM, _chromium, _parse

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")
CARDS = r"""cards:
  - id: shown
    type: open
    topics: [t]
    question: |
      | penalty | term |
      |---|---|
      | lasso | $\mu \|\theta\|_1$ |

      The mean $<Y>$ of a die, and \(\frac{p}{q}\) with $a
      + b$ wrapped.

      ![a one-pixel plot](images/plot.png)
    answer: |
      \[\frac{p}{r}\]
"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_lifted_formulas_typeset_and_own_images_load_in_a_browser(tmp_path: Path, figures_dir: Path) -> None:
    deck = tmp_path / "cards" / "probe"
    (deck / "images").mkdir(parents=True)
    (deck / "deck.yaml").write_text("key: probe\ntitle: Probe\ntopics:\n  - {slug: t, title: T}\n")
    (deck / "cards.yaml").write_text(CARDS)
    (deck / "images" / "plot.png").write_bytes(PNG)
    index = write_preview(tmp_path / "cards", tmp_path / "preview", figures_dir=figures_dir, math_check=True)
    dom = _parse(_chromium(tmp_path, index.as_uri(), "--dump-dom").stdout)
    assert dom.body.get("data-mathjax") == "typeset", dom.body
    assert dom.tags.get("mjx-container", 0) >= 5  # the front's four formulas (shown on the back again) and the answer
    assert dom.tags.get("mjx-merror", 0) == 0 and dom.error_attributes == 0 and dom.red_math == 0
    images = [img for img in dom.images if img.get("alt") == "a one-pixel plot"]
    assert images and all(img.get("data-loaded") == "true" for img in images), images
