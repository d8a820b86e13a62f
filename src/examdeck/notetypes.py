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

from .model import MAX_CHOICES

NOTETYPE_VERSION = 2


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
_EXPLANATION = '{{#Explanation}}<div class="explanation">{{Explanation}}</div>{{/Explanation}}'
# True and False buttons: shown by the script (hidden where scripts do not run); no answer in them.
_TF_BUTTONS = (
    '<div class="tf-choices" hidden><button type="button" data-value="True">True</button>'
    '<button type="button" data-value="False">False</button></div>'
)

# The choices' script, on both sides of mcq and truefalse cards (ES5, for old Android WebViews):
# the front shows the choices in a new order (pinned ones last) and records the pick; the back shows
# the same order and grades the pick against the back's own key (the Correct field, in the mcq-key
# element's data-correct). Where scripts do not run, the back's CSS still marks the correct choices.
SCRIPT = r"""(function () {
  "use strict";
  var script = document.currentScript, root = script && script.parentNode;
  if (!root || !root.classList || !root.classList.contains("examdeck")) {
    var waiting = document.querySelectorAll(".examdeck[data-id]:not([data-examdeck])");
    root = waiting[waiting.length - 1];
  }
  if (!root || root.getAttribute("data-examdeck")) { return; }
  root.setAttribute("data-examdeck", "ready");
  var front = root.classList.contains("front"), id = root.getAttribute("data-id") || "";

  /* What the front saves for the back: sessionStorage (kept when AnkiDroid loads the back as a
     fresh page), with a copy on window (kept where the back is shown in the same page, also where
     sessionStorage is missing or refused). The newest of the two wins. */
  var KEY = "examdeck:review";
  function session() {
    try {
      var s = window.sessionStorage;
      s.setItem("examdeck:probe", "1");
      s.removeItem("examdeck:probe");
      return s;
    } catch (e) {
      return null;
    }
  }
  function parse(raw) {
    try {
      var value = typeof raw === "string" ? JSON.parse(raw) : null;
      return value && typeof value === "object" ? value : null;
    } catch (e) {
      return null;
    }
  }
  function load() {
    var s = session(), stored = null, kept = parse(window.examdeckReview);
    if (s) {
      try { stored = parse(s.getItem(KEY)); } catch (e) { stored = null; }
    }
    if (stored && (!kept || (stored.t || 0) >= (kept.t || 0))) { return stored; }
    return kept;
  }
  function save(state) {
    state.t = Date.now();
    var raw = JSON.stringify(state), s = session();
    window.examdeckReview = raw;
    if (s) {
      try { s.setItem(KEY, raw); } catch (e) { /* window's copy remains */ }
    }
  }
  function has(list, value) { return list.indexOf(value) >= 0; }
  function letter(index) {
    var n = index + 1, out = "";
    while (n > 0) {
      out = String.fromCharCode(65 + (n - 1) % 26) + out;
      n = Math.floor((n - 1) / 26);
    }
    return out;
  }
  function mark(node, text) {
    var span = document.createElement("span");
    span.className = "mcq-mark";
    span.textContent = text;
    node.appendChild(span);
  }
  function verdict(kind, text) {
    var box = root.querySelector(".mcq-verdict");
    if (!box) { return; }
    box.className = "mcq-verdict " + kind;
    box.textContent = text;
    box.hidden = false;
  }
  /* Number keys pick on a desktop: one listener for the page, acting on the front shown now. */
  function listenToKeys(pickAt) {
    window.examdeckPickAt = function (index, key) {
      if (!document.documentElement.contains(root) || document.querySelector(".examdeck.back")) { return false; }
      return pickAt(index, key);
    };
    if (window.examdeckKeys) { return; }
    window.examdeckKeys = true;
    document.addEventListener("keydown", function (event) {
      var target = event.target, tag = target && target.tagName;
      if (event.ctrlKey || event.metaKey || event.altKey || !window.examdeckPickAt) { return; }
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) { return; }
      var key = event.key || "", index = -1;
      if (key.length === 1 && key >= "1" && key <= "9") { index = Number(key) - 1; }
      if (window.examdeckPickAt(index, key.toLowerCase())) { event.preventDefault(); }
    });
  }
  function activate(node, action) {
    node.tabIndex = 0;
    node.addEventListener("click", function (event) { event.preventDefault(); action(); });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); action(); }
    });
  }

  function multipleChoice() {
    var list = root.querySelector("ol.mcq-choices");
    if (!list) { return; }
    var items = Array.prototype.slice.call(list.children), byN = {}, source = [];
    items.forEach(function (li) {
      var n = li.getAttribute("data-n");
      byN[n] = li;
      source.push(n);
    });
    var multiple = list.getAttribute("data-multiple") === "true";
    var sig = "mcq|" + id + "|" + (list.getAttribute("data-sig") || "");
    var state = front ? null : load();
    if (!state || state.sig !== sig || !isOrder(state.order)) {
      state = { sig: sig, order: front ? newOrder() : source, picks: [], shown: front };
    }
    var picks = (state.picks || []).filter(function (n) { return has(source, n); });
    state.order.forEach(function (n) { list.appendChild(byN[n]); });
    items = state.order.map(function (n) { return byN[n]; });
    list.setAttribute("role", multiple ? "group" : "radiogroup");
    list.setAttribute("aria-label", multiple ? "Choices: select all that apply" : "Choices: select one");
    items.forEach(function (li) { li.setAttribute("role", multiple ? "checkbox" : "radio"); });
    if (front) {
      save(state);
      items.forEach(function (li) {
        activate(li, function () { pick(li.getAttribute("data-n")); });
      });
      listenToKeys(function (index) {
        if (index < 0 || index >= items.length) { return false; }
        pick(items[index].getAttribute("data-n"));
        return true;
      });
      show();
    } else {
      show();
      grade();
    }
    root.classList.add("js");

    function isOrder(order) {
      if (!order || order.length !== source.length) { return false; }
      return source.every(function (n) { return has(order, n); });
    }
    function newOrder() {
      var pinned = source.filter(function (n) { return byN[n].getAttribute("data-pin") === "last"; });
      var moving = source.filter(function (n) { return !has(pinned, n); });
      if (list.getAttribute("data-shuffle") !== "false") {
        for (var i = moving.length - 1; i > 0; i--) {
          var j = Math.floor(Math.random() * (i + 1)), swap = moving[i];
          moving[i] = moving[j];
          moving[j] = swap;
        }
      }
      return moving.concat(pinned);
    }
    function pick(n) {
      if (multiple) {
        picks = has(picks, n) ? picks.filter(function (p) { return p !== n; }) : picks.concat([n]);
      } else {
        picks = [n];
      }
      state.picks = picks;
      save(state);
      show();
    }
    function show() {
      items.forEach(function (li) {
        li.setAttribute("aria-checked", has(picks, li.getAttribute("data-n")) ? "true" : "false");
        if (!front) { li.setAttribute("aria-disabled", "true"); }
      });
    }
    function letters(ns) {
      return ns.map(function (n) { return letter(state.order.indexOf(n)); }).sort().join(", ");
    }
    function grade() {
      var keyNode = root.querySelector(".mcq-key");
      var key = (keyNode && keyNode.getAttribute("data-correct") || "").split(/\s+/).filter(function (n) { return has(source, n); });
      items.forEach(function (li) {
        var n = li.getAttribute("data-n"), right = has(key, n), picked = has(picks, n);
        if (right) { li.classList.add("correct"); }
        if (picked) { li.classList.add(right ? "picked-right" : "wrong"); }
        if (right && !picked && multiple && picks.length) { li.classList.add("missed"); }
        if (picked) { mark(li, right ? "\u2714 your pick" : "\u2718 your pick"); }
        else if (right) { mark(li, multiple && picks.length ? "\u2714 missed" : "\u2714 correct"); }
      });
      Array.prototype.forEach.call(root.querySelectorAll(".mcq-letter[data-n]"), function (span) {
        var at = state.order.indexOf(span.getAttribute("data-n"));
        if (at >= 0) { span.textContent = letter(at); }
      });
      var rightPicks = picks.filter(function (n) { return has(key, n); });
      var wrongPicks = picks.filter(function (n) { return !has(key, n); });
      var missed = key.filter(function (n) { return !has(picks, n); });
      var answer = (key.length > 1 ? "the answers are " : "the answer is ") + letters(key) + ".";
      if (!picks.length) {
        verdict("none", (state.shown === false ? "Not answered on the front: " : "No choice picked: ") + answer);
      } else if (!wrongPicks.length && !missed.length) {
        verdict("right", multiple ? "Right: you picked all " + key.length + " correct choices." : "Right.");
      } else if (!multiple) {
        verdict("wrong", "Wrong: you picked " + letters(picks) + "; " + answer);
      } else {
        var parts = [rightPicks.length + " of " + key.length + " correct choices picked"];
        if (wrongPicks.length) { parts.push("wrong: " + letters(wrongPicks)); }
        if (missed.length) { parts.push("missed: " + letters(missed)); }
        verdict("wrong", "Not quite: " + parts.join("; ") + ".");
      }
    }
  }

  function trueFalse() {
    var box = root.querySelector(".tf-choices");
    if (!box) { return; }
    var buttons = Array.prototype.slice.call(box.querySelectorAll("button[data-value]"));
    var sig = "truefalse|" + id, state = front ? null : load();
    if (!state || state.sig !== sig) { state = { sig: sig, picks: [], shown: front }; }
    var picks = (state.picks || []).filter(function (v) { return v === "True" || v === "False"; });
    box.hidden = false;
    box.setAttribute("role", "radiogroup");
    box.setAttribute("aria-label", "Your answer");
    buttons.forEach(function (button) { button.setAttribute("role", "radio"); });
    if (front) {
      save(state);
      buttons.forEach(function (button) {
        button.addEventListener("click", function () { pick(button.getAttribute("data-value")); });
      });
      listenToKeys(function (index, key) {
        var value = index === 0 || key === "t" ? "True" : index === 1 || key === "f" ? "False" : null;
        if (!value) { return false; }
        pick(value);
        return true;
      });
    } else {
      buttons.forEach(function (button) { button.disabled = true; });
    }
    show();
    if (!front) { grade(); }
    root.classList.add("js");

    function pick(value) {
      picks = [value];
      state.picks = picks;
      save(state);
      show();
    }
    function show() {
      buttons.forEach(function (button) {
        button.setAttribute("aria-checked", has(picks, button.getAttribute("data-value")) ? "true" : "false");
      });
    }
    function grade() {
      var answerNode = root.querySelector(".answer[data-answer]");
      var answer = answerNode && answerNode.getAttribute("data-answer");
      buttons.forEach(function (button) {
        var value = button.getAttribute("data-value"), picked = has(picks, value);
        if (value === answer) { button.classList.add("correct"); }
        if (picked) { button.classList.add(value === answer ? "picked-right" : "wrong"); }
      });
      var statement = "the statement is " + String(answer).toLowerCase() + ".";
      if (!picks.length) {
        verdict("none", (state.shown === false ? "Not answered on the front: " : "No answer picked: ") + statement);
      } else if (picks[0] === answer) {
        verdict("right", "Right: " + statement);
      } else {
        verdict("wrong", "Wrong: you picked " + picks[0] + "; " + statement);
      }
    }
  }

  if (root.classList.contains("mcq")) { multipleChoice(); }
  if (root.classList.contains("truefalse")) { trueFalse(); }
})();
"""
_SCRIPT_TAG = f"<script>\n{SCRIPT}</script>"

SPECS: dict[str, NoteTypeSpec] = {
    "mcq": NoteTypeSpec(
        key="mcq",
        name="examdeck multiple choice",
        fields=("Question", "Id", "Figure", "Choices", "Correct", "Answer", "Explanation", "Source"),
        front=(
            '<div class="examdeck mcq front" data-id="{{Id}}">\n<div class="question">{{Question}}</div>\n'
            f"{_FIGURE}\n<div class=\"choices\">{{{{Choices}}}}</div>\n{_SCRIPT_TAG}\n</div>"
        ),
        # The back's key comes before the choices so that CSS alone marks the correct ones (no script).
        back=(
            '<div class="examdeck mcq back" data-id="{{Id}}">\n<div class="question">{{Question}}</div>\n'
            f"{_FIGURE}\n<hr id=\"answer\">\n<div class=\"mcq-key\" data-correct=\"{{{{Correct}}}}\" hidden></div>\n"
            '<div class="choices">{{Choices}}</div>\n<div class="mcq-verdict" role="status" hidden></div>\n'
            '<div class="answer"><span class="label">Answer</span> {{Answer}}</div>\n'
            f"{_EXPLANATION}\n{_SOURCE}\n{_SCRIPT_TAG}\n</div>"
        ),
    ),
    "truefalse": NoteTypeSpec(
        key="truefalse",
        name="examdeck true or false",
        fields=("Question", "Id", "Figure", "Answer", "Explanation", "Source"),
        front=(
            '<div class="examdeck truefalse front" data-id="{{Id}}">\n<div class="prompt">True or false?</div>\n'
            f'<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n{_TF_BUTTONS}\n{_SCRIPT_TAG}\n</div>'
        ),
        back=(
            '<div class="examdeck truefalse back" data-id="{{Id}}">\n<div class="prompt">True or false?</div>\n'
            f'<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n{_TF_BUTTONS}\n'
            '<hr id="answer">\n<div class="mcq-verdict" role="status" hidden></div>\n'
            '<div class="answer verdict-{{Answer}}" data-answer="{{Answer}}">{{Answer}}</div>\n'
            f"{_EXPLANATION}\n{_SOURCE}\n{_SCRIPT_TAG}\n</div>"
        ),
    ),
    "open": NoteTypeSpec(
        key="open",
        name="examdeck open question",
        fields=("Question", "Id", "Figure", "Answer", "Explanation", "Source"),
        front=(
            f'<div class="examdeck open front">\n<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n</div>'
        ),
        back=(
            f'<div class="examdeck open back">\n<div class="question">{{{{Question}}}}</div>\n{_FIGURE}\n'
            '<hr id="answer">\n<div class="answer solution">{{Answer}}</div>\n'
            f"{_EXPLANATION}\n{_SOURCE}\n</div>"
        ),
    ),
}

CSS = """\
.card {
  --fg: #1d1d1f; --muted: #5f6368; --bg: #ffffff; --panel: #f3f4f6;
  --accent: #1f5fbf; --ok: #187533; --ok-bg: #e6f4ea; --bad: #b42318;
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
""" + """\
/* -- night-mode contrast and overflow safety (issue #16; tests/test_phone_view.py checks them) -- */
/* Night: text and panels at >= 4.5:1 (WCAG AA). The card paints its own background over the one
   Anki's reviewer (--canvas) or AnkiDroid (black) gives the body, so the colours are known. */
.card.nightMode, .card.night_mode { background-color: var(--bg); color: var(--fg); }
.card.nightMode .examdeck, .card.night_mode .examdeck, .nightMode .card .examdeck { color: var(--fg); }
.card.nightMode .examdeck a, .card.night_mode .examdeck a, .nightMode .card .examdeck a { color: var(--accent); }
.card.nightMode .examdeck .explanation, .card.night_mode .examdeck .explanation,
.card.nightMode .examdeck pre, .card.night_mode .examdeck pre,
.card.nightMode .examdeck code, .card.night_mode .examdeck code { color: var(--fg); background: var(--panel); }
/* Nothing wider than the card: long words wrap, media shrink, tables and code scroll in their own box. */
.examdeck { overflow-wrap: break-word; }
.examdeck img, .examdeck svg, .examdeck video { max-width: 100%; height: auto; }
.examdeck table { display: block; max-width: 100%; overflow-x: auto; }
.examdeck pre { max-width: 100%; overflow-x: auto; }
/* A display formula wider than the card scrolls in its box: a shadow shows on the side where
   more of it is hidden (covers that scroll with the formula hide the shadow at either end). */
.examdeck mjx-container[display="true"] { --examdeck-surface: var(--bg);
  background: linear-gradient(to right, var(--examdeck-surface) 40%, transparent) left / 1.5em 100% no-repeat local,
    linear-gradient(to left, var(--examdeck-surface) 40%, transparent) right / 1.5em 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(128, 128, 128, 0.6), transparent) left / 0.6em 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(128, 128, 128, 0.6), transparent) right / 0.6em 100% no-repeat scroll; }
.examdeck .explanation mjx-container[display="true"] { --examdeck-surface: var(--panel); }
.examdeck.back .choices li.correct mjx-container[display="true"] { --examdeck-surface: var(--ok-bg); }
"""

def _correct_choice_selectors(suffix: str = "", count: int = MAX_CHOICES) -> str:
    """`.mcq-key[data-correct~="N"] ~ .choices li[data-n="N"]` for N = 1..count: the correct choices,
    read from the back's key by CSS alone (so scripts are not needed, and no front holds a class)."""
    return ",\n".join(
        f'.examdeck.back .mcq-key[data-correct~="{n}"] ~ .choices li[data-n="{n}"]{suffix}' for n in range(1, count + 1)
    )


# Choices: tappable on the front, graded on the back (issue 17). Kept apart from the base CSS above.
CHOICES_CSS = f"""\
.card {{ --pick-bg: #e8f0fe; --bad-bg: #fdecea; }}
.card.nightMode, .card.night_mode, .nightMode .card {{ --pick-bg: #253552; --bad-bg: #3d2422; }}
.examdeck .mcq-hint {{ margin: 0.2em 0 0; color: var(--muted); font-size: 0.85em; }}
.examdeck.js .choices li[role] {{ border: 1px solid var(--muted); padding: 0.4em 0.6em; }}
.examdeck.front.js .choices li[role] {{ cursor: pointer; -webkit-tap-highlight-color: transparent; }}
.examdeck.js .choices li[aria-checked="true"] {{ background: var(--pick-bg); border: 2px solid var(--accent); }}
.examdeck .choices li:focus-visible, .examdeck .tf-choices button:focus-visible {{ outline: 2px solid var(--accent); outline-offset: 2px; }}
{_correct_choice_selectors()} {{ background: var(--ok-bg); color: var(--ok); font-weight: 600; }}
{_correct_choice_selectors("::after").replace(".examdeck.back ", ".examdeck.back:not(.js) ")} {{ content: "  \\2714"; }}
.examdeck.back .choices li.wrong {{ background: var(--bad-bg); color: var(--bad); border: 2px solid var(--bad); }}
.examdeck.back .choices li.missed {{ border: 2px dashed var(--ok); }}
.examdeck .mcq-mark {{ margin-left: 0.5em; font-size: 0.85em; font-weight: 600; white-space: nowrap; }}
.examdeck .mcq-verdict {{ margin: 0.6em 0; font-weight: 600; }}
.examdeck .mcq-verdict.right {{ color: var(--ok); }}
.examdeck .mcq-verdict.wrong {{ color: var(--bad); }}
.examdeck .mcq-verdict.none {{ color: var(--muted); }}
.examdeck .tf-choices {{ display: flex; gap: 0.6em; margin: 0.6em 0; }}
.examdeck .tf-choices[hidden] {{ display: none; }}
.examdeck .tf-choices button {{ flex: 1; min-height: 2.4em; font: inherit; color: var(--fg); background: var(--panel);
  border: 1px solid var(--muted); border-radius: 8px; cursor: pointer; }}
.examdeck .tf-choices button[aria-checked="true"] {{ background: var(--pick-bg); border: 2px solid var(--accent); }}
.examdeck.back .tf-choices button {{ cursor: default; }}
.examdeck.back .tf-choices button.correct {{ background: var(--ok-bg); color: var(--ok); font-weight: 600; }}
.examdeck.back .tf-choices button.wrong {{ background: var(--bad-bg); color: var(--bad); border: 2px solid var(--bad); }}
"""
CSS += CHOICES_CSS


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
