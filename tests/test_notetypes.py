"""Note types: constant ids, and a schema version that must change whenever fields or templates do."""

from __future__ import annotations

from examdeck.notetypes import NOTETYPE_VERSION, SPECS, fingerprint, genanki_model

# Anki copies a note type whose fields or templates list changed and then skips updating the
# students' existing notes. Such a change must come with NOTETYPE_VERSION + 1, a new line here,
# and a note in the README ("Note-type versions").
PINNED_SCHEMAS = {
    1: {"mcq": "8aaa00fed513ad05", "truefalse": "d39b2a475265f845", "open": "d39b2a475265f845"},
    # v2: the question first (Anki's sort field), then Id; mcq gains Correct (the back's grading key).
    2: {"mcq": "4b6519934914156a", "truefalse": "e83b22a306c4d74b", "open": "e83b22a306c4d74b"},
}
PINNED_IDS = {
    1: {"mcq": 4342615683667283455, "truefalse": 2538347114263332340, "open": 3592480268498048863},
    2: {"mcq": 4520703194498837907, "truefalse": 2840046751352479409, "open": 658043585453803117},
}


def test_fields_and_templates_match_the_pinned_schema_of_this_version():
    current = {key: fingerprint(spec) for key, spec in SPECS.items()}
    assert current == PINNED_SCHEMAS[NOTETYPE_VERSION], (
        "a note type's fields or templates changed: bump NOTETYPE_VERSION and pin the new schema"
    )


def test_note_type_ids_are_constant():
    assert {key: genanki_model(key).model_id for key in SPECS} == PINNED_IDS[NOTETYPE_VERSION]


def test_templates_use_only_declared_fields():
    import re

    for spec in SPECS.values():
        used = set(re.findall(r"\{\{[#/^]?([A-Za-z]+)\}\}", spec.front + spec.back))
        assert used <= set(spec.fields), spec.key
        assert "Question" in spec.front and "Answer" in spec.back and "Answer" not in spec.front


def test_question_is_the_first_and_sort_field_and_id_is_kept():
    for key, spec in SPECS.items():
        assert spec.fields[:2] == ("Question", "Id"), key
        assert genanki_model(key).sort_field_index == 0


def test_no_front_holds_the_answer():
    """Issue 16/17: the correct choice is known from the back's fields only (Correct, Answer)."""
    for spec in SPECS.values():
        for name in ("Correct", "Answer", "Explanation"):
            assert "{{" + name + "}}" not in spec.front and "{{#" + name + "}}" not in spec.front, (spec.key, name)
        assert "correct" not in spec.front.replace("SCRIPT", "").split("<script>")[0].lower(), spec.key


def test_script_has_no_template_syntax_and_parses():
    """Anki's template language reads `{{`: the script must never contain it (or `}}`)."""
    import shutil
    import subprocess

    from examdeck.notetypes import SCRIPT

    assert "{{" not in SCRIPT and "}}" not in SCRIPT
    node = shutil.which("node")
    if node:
        proc = subprocess.run([node, "--check", "-"], input=SCRIPT, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
