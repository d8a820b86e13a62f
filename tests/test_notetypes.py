"""Note types: constant ids, and a schema version that must change whenever fields or templates do."""

from __future__ import annotations

from examdeck.notetypes import NOTETYPE_VERSION, SPECS, fingerprint, genanki_model

# Anki copies a note type whose fields or templates list changed and then skips updating the
# students' existing notes. Such a change must come with NOTETYPE_VERSION + 1, a new line here,
# and a note in the README ("Note-type versions").
PINNED_SCHEMAS = {
    1: {"mcq": "8aaa00fed513ad05", "truefalse": "d39b2a475265f845", "open": "d39b2a475265f845"},
}
PINNED_IDS = {
    1: {"mcq": 4342615683667283455, "truefalse": 2538347114263332340, "open": 3592480268498048863},
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
