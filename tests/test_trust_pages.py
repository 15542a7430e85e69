"""The trust rules on the pages, in AppTest against a real SQLite store: the room's PIN lockout survives a reload,
shared texts load no remote image, room creation can be the admin's alone, and a student deletes their own runs."""

from __future__ import annotations

import pytest

from playground import CallMetrics, Request, Result, RunContext, rooms
from playground.access import ADMIN, Scope, ServerSettings
from playground.catalog import load_catalog
from playground.store import Store
from tests.apptest import app_page

PIXEL = "![pixel](http://127.0.0.1:9/pixel.png)"


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "trust.sqlite")


def texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("title", "markdown", "caption", "header") for e in at.get(kind))


def test_wrong_pins_lock_the_room_across_reloads(monkeypatch, db):
    Store(db).create_room("ABCDEFGH", "Class", rooms.hash_pin("2468"))
    warnings = []
    for _reload in range(2):  # a reload is a new session: the count lives in the store, not in it
        with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
            at.query_params["room"] = "ABCDEFGH"
            at.run()
            for attempt in range(3):
                at.text_input(key="unlock_pin").input(f"{attempt}000").run()
                next(b for b in at.button if b.label == "Unlock").click().run()
                warnings.append(at.warning[-1].value)
    assert warnings[:4] == ["Wrong PIN."] * 4  # three free tries, and the one that starts the first wait
    assert all(w.startswith("Too many wrong tries") for w in warnings[4:])
    assert Store(db).locked_until("room:ABCDEFGH") > 0


def test_shared_texts_load_no_remote_image(monkeypatch, db):
    store = Store(db)
    store.create_room("ABCDEFGH", f"Week 1 {PIXEL}", rooms.hash_pin("2468"))
    exercise = rooms.Exercise("generate", ("smollm2-135m",), prompt=f"Describe {PIXEL}")
    store.set_exercise("ABCDEFGH", exercise.to_dict())
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.query_params["room"] = "ABCDEFGH"
        at.run()
        shown = texts(at)
        assert "Week 1" in shown and "Describe" in shown and "![" not in shown and "[🖼 pixel]" in shown


def test_the_admin_may_keep_room_creation_to_themselves(monkeypatch, db):
    ServerSettings(Store(db)).set(Scope("root", role=ADMIN), "room_creation", "admin")
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        assert "only the admin creates rooms" in at.info[0].value
        assert not any(b.label == "Create" for b in at.button)


def test_a_student_deletes_their_own_runs_and_only_those(monkeypatch, db):
    store, catalog = Store(db), load_catalog()
    spec = catalog.get("smollm2-135m")
    with app_page(monkeypatch, "dashboard", PLAYGROUND_DB=db) as at:
        mine = at.session_state["session_id"]
        for session, prompt in ((mine, "my question"), ("someone-else", "their question")):
            final = Result(spec.id, "an answer", CallMetrics(0.1, 0.3))
            store.record(RunContext("generate", session), spec, Request("generate", prompt=prompt), final, None)
        at.run()
        at.toggle(key="dash_delete").set_value(True).run()
        next(b for b in at.button if b.label.startswith("Delete 1 runs")).click().run()
        assert not at.exception
    assert list(store.runs()["input"]) == ["their question"]


def _admin_block():
    """The sidebar's server-wide block for a signed-in admin (AppTest shows no sidebar after a page switch)."""
    import streamlit as st

    from components.access_view import render_admin
    from components.session import ADMIN_SIGNED_IN

    st.session_state[ADMIN_SIGNED_IN] = True  # what the sign-in sets once the password matched
    render_admin()


def test_the_admin_sets_the_electricity_zone_for_everyone(monkeypatch, db):
    from streamlit.testing.v1 import AppTest

    from playground.energy import zone_of

    monkeypatch.setenv("PLAYGROUND_DB", db)
    at = AppTest.from_function(_admin_block, default_timeout=60).run()
    zone = next(s for s in at.selectbox if s.label.startswith("Electricity mix"))
    assert zone.value == "WOR" and "CHN" in zone.options
    zone.set_value("FRA")
    next(b for b in at.button if b.label == "Save for everyone").click().run()
    assert not at.exception and at.success[-1].value.startswith("Saved")
    assert zone_of(Store(db)) == "FRA"  # every session's energy line now uses France's mix
