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


# --- moving from version 1 to version 2 (README, "Note-type versions") ------------------------------

V1_FIELDS = {
    "mcq": ("Id", "Question", "Figure", "Choices", "Answer", "Explanation", "Source"),
    "truefalse": ("Id", "Question", "Figure", "Answer", "Explanation", "Source"),
    "open": ("Id", "Question", "Figure", "Answer", "Explanation", "Source"),
}


def _build(cards, out, figures_dir, epoch, monkeypatch):
    from examdeck.pipeline import BuildOptions, build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    (built,), _ = build(cards, BuildOptions(out_dir=out, figures_dir=figures_dir, math_check=False))
    return built.path


def test_a_student_with_version_1_keeps_reviews_through_change_note_type(basic_deck, tmp_path, figures_dir, monkeypatch):
    """What the README tells students: importing v2 over v1 updates nothing (every note conflicts); Change
    Note Type (fields matched by name) keeps every card's scheduling and the review log; importing v2
    again with "Update notes: Always" then brings the new fields."""
    import dataclasses

    import anki.import_export_pb2 as ie
    from anki.collection import Collection

    import examdeck.assemble
    import examdeck.notetypes as notetypes
    from conftest import import_package
    from test_anki_import import answer_every_card

    # Version 1 as main shipped it: the same ids, names and fields (Id first); templates do not matter here.
    v1_specs = {key: dataclasses.replace(spec, fields=V1_FIELDS[key], front="{{Question}}", back="{{Answer}}")
                for key, spec in SPECS.items()}
    with monkeypatch.context() as patch:
        patch.setattr(notetypes, "NOTETYPE_VERSION", 1)
        patch.setattr(notetypes, "SPECS", v1_specs)
        patch.setattr(examdeck.assemble, "SPECS", v1_specs)
        notetypes.genanki_model.cache_clear()
        assert {key: notetypes.genanki_model(key).model_id for key in SPECS} == PINNED_IDS[1]
        v1 = _build(basic_deck, tmp_path / "v1", figures_dir, 1_767_225_600, monkeypatch)
        notetypes.genanki_model.cache_clear()
    v2 = _build(basic_deck, tmp_path / "v2", figures_dir, 1_769_904_000, monkeypatch)

    (tmp_path / "student").mkdir()
    col = Collection(str(tmp_path / "student" / "collection.anki2"))
    try:
        assert len(import_package(col, v1).log.new) == 3
        assert answer_every_card(col) > 0
        schedule = col.db.all("select id, type, queue, ivl, due, reps, lapses from cards order by id")
        reviews = col.db.scalar("select count() from revlog")

        log = import_package(col, v2).log
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 3)
        names = {m.name for m in col.models.all_names_and_ids()}
        assert {f"{s.name} (v1)" for s in SPECS.values()} | {f"{s.name} (v2)" for s in SPECS.values()} <= names

        for spec in SPECS.values():  # Browse, select the v1 notes, Notes > Change Note Type, pick v2, Save
            old, new = col.models.by_name(f"{spec.name} (v1)"), col.models.by_name(f"{spec.name} (v2)")
            nids = col.models.nids(old["id"])
            if not nids:
                continue
            request = col.models.change_notetype_info(old_notetype_id=old["id"], new_notetype_id=new["id"]).input
            assert [V1_FIELDS[spec.key].index(name) if name in V1_FIELDS[spec.key] else -1 for name in spec.fields] == \
                list(request.new_fields), "Anki's default mapping matches fields by name"
            request.note_ids.extend(nids)
            col.models.change_notetype_of_notes(request)
        col.models._clear_cache()
        assert col.db.all("select id, type, queue, ivl, due, reps, lapses from cards order by id") == schedule
        assert col.db.scalar("select count() from revlog") == reviews

        # The notes changed just now: a default import finds them newer than the package's and skips them.
        log = import_package(col, v2).log
        assert (len(log.updated), len(log.duplicate)) == (0, 3)
        options = col._backend.get_import_anki_package_presets()
        options.update_notes = ie.ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
        log = col.import_anki_package(ie.ImportAnkiPackageRequest(package_path=str(v2), options=options)).log
        assert len(log.updated) == 3
        mse = col.get_note(col.find_notes("Id:mse")[0])
        assert mse.note_type()["name"].endswith("(v2)") and mse["Correct"] == "1" and mse.keys()[0] == "Question"
        assert col.db.all("select id, type, queue, ivl, due, reps, lapses from cards order by id") == schedule
        assert col.db.scalar("select count() from revlog") == reviews
    finally:
        col.close()
