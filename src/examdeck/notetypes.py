"""Anki note types: constant ids, fields, templates and CSS for light, night mode and phones.

A note type's fields and templates list are its schema. Changing them makes Anki copy the note
type on import and skip updating students' existing notes, so any such change must bump
NOTETYPE_VERSION (a test pins the fingerprint). CSS and template HTML changes are safe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache

import genanki

NOTETYPE_VERSION = 1


@dataclass(frozen=True)
class NoteTypeSpec:
    key: str
    name: str
    fields: tuple[str, ...]
    front: str
    back: str


def stable_id(*parts: str) -> int:
    """A positive 63-bit id from stable keys (never from content): the same keys, the same id forever."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 62) - 1) | (1 << 40)


_SOURCE = '{{#Source}}<div class="source">{{Source}}</div>{{/Source}}'
_FIGURE = "{{#Figure}}<div class=\"figure-box\">{{Figure}}</div>{{/Figure}}"

SPECS: dict[str, NoteTypeSpec] = {
    "mcq": NoteTypeSpec(
        key="mcq",
        name="examdeck multiple choice",
        fields=("Id", "Question", "Figure", "Choices", "Answer", "Explanation", "Source"),
        front=(
            '<div class="examdeck mcq front">\n<div class="question">{{Question}}</div>\n'
            f"{_FIGURE}\n<div class=\"choices\">{{{{Choices}}}}</div>\n</div>"
        ),
        back=(
            '<div class="examdeck mcq back">\n<div class="question">{{Question}}</div>\n'
            f"{_FIGURE}\n<div class=\"choices\">{{{{Choices}}}}</div>\n"
            '<hr id="answer">\n<div class="answer"><span class="label">Answer</span> {{Answer}}</div>\n'
            '{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}\n'
            f"{_SOURCE}\n</div>"
        ),
    ),
    "truefalse": NoteTypeSpec(
        key="truefalse",
        name="examdeck true or false",
        fields=("Id", "Question", "Figure", "Answer", "Explanation", "Source"),
        front=(
            '<div class="examdeck truefalse front">\n<div class="prompt">True or false?</div>\n'
            f'<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n</div>'
        ),
        back=(
            '<div class="examdeck truefalse back">\n<div class="prompt">True or false?</div>\n'
            f'<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n'
            '<hr id="answer">\n<div class="answer verdict-{{Answer}}">{{Answer}}</div>\n'
            '{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}\n'
            f"{_SOURCE}\n</div>"
        ),
    ),
    "open": NoteTypeSpec(
        key="open",
        name="examdeck open question",
        fields=("Id", "Question", "Figure", "Answer", "Explanation", "Source"),
        front=(
            f'<div class="examdeck open front">\n<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n</div>'
        ),
        back=(
            f'<div class="examdeck open back">\n<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n'
            '<hr id="answer">\n<div class="answer solution">{{Answer}}</div>\n'
            '{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}\n'
            f"{_SOURCE}\n</div>"
        ),
    ),
}

CSS = """\
.card {
  --fg: #1d1d1f; --muted: #5f6368; --bg: #ffffff; --panel: #f3f4f6;
  --accent: #1f5fbf; --ok: #1a7f37; --ok-bg: #e6f4ea; --bad: #b42318;
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 19px; line-height: 1.5; color: var(--fg); background: var(--bg);
  text-align: left;
}
.card.nightMode, .card.night_mode, .nightMode .card {
  --fg: #e8eaed; --muted: #a0a4aa; --bg: #1e1f22; --panel: #2b2d31;
  --accent: #8ab4f8; --ok: #7ee2a8; --ok-bg: #1f3a2a; --bad: #f28b82;
}
.examdeck { max-width: 46em; margin: 0 auto; padding: 0 0.6em; }
.examdeck .prompt { color: var(--muted); font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em; }
.examdeck .question { margin: 0.4em 0 0.8em; }
.examdeck .choices ol { list-style-type: upper-alpha; padding-left: 1.8em; }
.examdeck .choices li { margin: 0.35em 0; padding: 0.25em 0.5em; border-radius: 6px; }
.examdeck.back .choices li.correct { background: var(--ok-bg); color: var(--ok); font-weight: 600; }
.examdeck.back .choices li.correct::after { content: "  \\2714"; }
.examdeck .answer { margin: 0.6em 0; font-weight: 600; }
.examdeck .answer.solution { font-weight: normal; }
.examdeck .answer .label { color: var(--muted); font-weight: normal; margin-right: 0.4em; }
.examdeck .verdict-True { color: var(--ok); font-size: 1.3em; }
.examdeck .verdict-False { color: var(--bad); font-size: 1.3em; }
.examdeck .explanation { margin-top: 0.8em; padding: 0.6em 0.8em; background: var(--panel); border-radius: 8px; }
.examdeck .source { margin-top: 1em; color: var(--muted); font-size: 0.8em; }
.examdeck .figure-set { display: block; margin: 0.6em 0; }
.examdeck img.figure { display: block; max-width: 100%; height: auto; margin: 0 auto; border-radius: 6px; }
.examdeck img.figure.fig-phone, .examdeck img.figure.fig-dark { display: none; }
.nightMode .examdeck img.figure.fig-desktop.fig-light, .night_mode .examdeck img.figure.fig-desktop.fig-light { display: none; }
.nightMode .examdeck img.figure.fig-desktop.fig-dark, .night_mode .examdeck img.figure.fig-desktop.fig-dark { display: block; }
.examdeck .figure-set figcaption, .examdeck .figure-caption { display: block; margin-top: 0.3em; color: var(--muted);
  font-size: 0.85em; text-align: center; }
@media (max-width: 480px) {
  .examdeck img.figure.fig-desktop { display: none; }
  .nightMode .examdeck img.figure.fig-desktop.fig-dark, .night_mode .examdeck img.figure.fig-desktop.fig-dark { display: none; }
  .examdeck img.figure.fig-phone.fig-light { display: block; }
  .nightMode .examdeck img.figure.fig-phone.fig-light, .night_mode .examdeck img.figure.fig-phone.fig-light { display: none; }
  .nightMode .examdeck img.figure.fig-phone.fig-dark, .night_mode .examdeck img.figure.fig-phone.fig-dark { display: block; }
}
.examdeck .math-display { overflow-x: auto; overflow-y: hidden; margin: 0.5em 0; }
.examdeck mjx-container[display="true"] { overflow-x: auto; overflow-y: hidden; max-width: 100%; }
.examdeck table { border-collapse: collapse; margin: 0.5em 0; }
.examdeck td, .examdeck th { border: 1px solid var(--muted); padding: 0.2em 0.5em; }
.examdeck pre, .examdeck code { background: var(--panel); border-radius: 4px; padding: 0 0.2em; }
.examdeck .retired-banner { margin: 0 0 0.8em; padding: 0.5em 0.8em; border-left: 4px solid var(--bad);
  background: var(--panel); font-size: 0.9em; }
.examdeck hr#answer { border: none; border-top: 1px solid var(--muted); margin: 1em 0; }
@media (max-width: 480px) { .card { font-size: 17px; } .examdeck { padding: 0 0.2em; } }
"""


def fingerprint(spec: NoteTypeSpec) -> str:
    """What Anki treats as the note type's schema: its fields and its templates list (not CSS or HTML)."""
    return hashlib.sha256(json.dumps({"fields": spec.fields, "templates": ["Card 1"]}).encode()).hexdigest()[:16]


@cache
def genanki_model(card_type: str) -> genanki.Model:
    spec = SPECS[card_type]
    return genanki.Model(
        model_id=stable_id("examdeck-notetype", spec.key, str(NOTETYPE_VERSION)),
        name=f"{spec.name} (v{NOTETYPE_VERSION})",
        fields=[{"name": name} for name in spec.fields],
        templates=[{"name": "Card 1", "qfmt": spec.front, "afmt": spec.back}],
        css=CSS,
        sort_field_index=0,
    )
