"""Roles and scopes, decided in the engine and applied by the store: private history, server-wide settings only for
the admin, PIN and password lockouts that survive reloads and replicas, votes only from the battle's session, bounds
on every shared text, CSV exports a spreadsheet opens as text, and the identity rule of blind battles."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile

import pytest

from playground import CallMetrics, Request, Result, RunContext, arena, rooms
from playground.access import (
    ADMIN,
    FIRST_DELAY_S,
    FREE_TRIES,
    MAX_DELAY_S,
    LockedOut,
    Lockout,
    Scope,
    ServerSettings,
    room_target,
    scrypt_equal,
    server_secret,
)
from playground.errors import InputError
from playground.store import Store, to_csv, to_json

HYPERLINK = '=HYPERLINK("http://127.0.0.1/x","x")'


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.close()


def record(store, catalog, session, prompt, room=None):
    spec = catalog.get("smollm2-135m")
    final = Result(spec.id, f"answer to {prompt}", CallMetrics(0.1, 0.3))
    store.record(RunContext("generate", session, room=room), spec, Request("generate", prompt=prompt), final, None)


def test_each_visitor_sees_their_own_runs_the_instructor_the_room_the_admin_all(store, catalog):
    record(store, catalog, "alice", "alice's secret plan")
    record(store, catalog, "bob", "bob in class", room="ROOM1")
    record(store, catalog, "carol", "carol elsewhere")
    assert list(store.runs(scope=Scope("alice"))["input"]) == ["alice's secret plan"]
    assert list(store.runs(scope=Scope("nobody"))["input"]) == []
    assert list(store.runs(scope=Scope("teacher", rooms=frozenset({"ROOM1"})))["input"]) == ["bob in class"]
    assert len(store.runs(scope=Scope("root", role=ADMIN))) == 3
    assert store.delete_own_runs(Scope("alice")) == 1 and store.delete_own_runs(Scope("")) == 0
    assert sorted(store.runs()["input"]) == ["bob in class", "carol elsewhere"]  # only alice's went


def test_only_the_admin_changes_server_wide_settings(store, monkeypatch):
    settings = ServerSettings(store)
    monkeypatch.setenv("PLAYGROUND_BUDGET_DAY_USD", "7.5")
    assert settings.get("budget_day_usd") == 7.5 and settings.get("budget_session_usd") == 0.5
    with pytest.raises(InputError, match="Only the admin"):
        settings.set(Scope("student"), "budget_session_usd", 100)
    with pytest.raises(InputError):
        settings.set(Scope("root", role=ADMIN), "server_keys", "the whole internet")
    settings.set(Scope("root", role=ADMIN), "budget_session_usd", 1.25)
    settings.set(Scope("root", role=ADMIN), "budget_day_usd", 3)
    assert settings.get("budget_session_usd") == 1.25 and settings.get("budget_day_usd") == 3.0  # over the env


def test_a_server_setting_comes_from_secrets_toml_first_then_the_environment(monkeypatch, tmp_path):
    """The order Streamlit itself gives them (it copies a secrets file's values into os.environ), so the engine and
    the pages agree on which key is the server's."""
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("STREAMLIT_SECRETS_FILES", f"{tmp_path / 'missing.toml'} {secrets}")
    monkeypatch.setenv("PLAYGROUND_ELECTRICITY_ZONE", "FRA")
    assert server_secret("PLAYGROUND_ELECTRICITY_ZONE") == "FRA"  # no file yet: the environment
    secrets.write_text('PLAYGROUND_ELECTRICITY_ZONE = "SWE"\n')
    assert server_secret("PLAYGROUND_ELECTRICITY_ZONE") == "SWE"
    secrets.write_text('PLAYGROUND_ELECTRICITY_ZONE = "CHN"\n')  # an edit is seen at once: nothing cached
    assert ServerSettings.fallback("electricity_zone") == "CHN"
    secrets.write_text("not = toml = at all")
    assert server_secret("PLAYGROUND_ELECTRICITY_ZONE") == "FRA"
    assert server_secret("PLAYGROUND_NOT_SET_ANYWHERE") == ""


def test_twenty_wrong_pins_across_reloads_wait_longer_each_time_then_the_right_one_works(db_url):
    now = [1_000.0]
    pin_hash = rooms.hash_pin("2468")
    target = room_target("ROOM9")
    waits = []
    for attempt in range(20):
        page = Lockout(Store(db_url), clock=lambda: now[0])  # each try a fresh page load, on one of two replicas
        try:
            assert not page.check(target, f"{1000 + attempt}", pin_hash)
        except LockedOut as locked:
            waits.append(locked.retry_after_s)
            with pytest.raises(LockedOut):  # even the right PIN is not looked at while the wait runs
                page.check(target, "2468", pin_hash)
            now[0] += locked.retry_after_s
            assert not page.check(target, f"{1000 + attempt}", pin_hash)
        page.store.close()
    assert len(waits) == 20 - FREE_TRIES - 1  # free tries, then the try that starts the first wait
    assert waits[0] == pytest.approx(FIRST_DELAY_S) and waits[-1] == pytest.approx(MAX_DELAY_S)
    assert all(later >= earlier for earlier, later in itertools.pairwise(waits)) and waits[4] > waits[1]
    store = Store(db_url)
    page = Lockout(store, clock=lambda: now[0])
    with pytest.raises(LockedOut) as locked:
        page.check(target, "2468", pin_hash)
    now[0] += locked.value.retry_after_s
    assert page.check(target, "2468", pin_hash)
    assert store.locked_until(target) == 0.0  # the right PIN resets the count
    store.close()


def test_the_admin_password_is_compared_through_scrypt():
    assert scrypt_equal("correct horse", "correct horse") and not scrypt_equal("correct hors", "correct horse")
    hashed = rooms.hash_pin("correct horse")  # a hash in secrets.toml works as well
    assert scrypt_equal("correct horse", hashed) and not scrypt_equal("wrong", hashed)


def test_the_store_refuses_a_vote_from_a_session_the_battle_was_never_shown_to(store):
    store.create_battle("b-1", "alice", None, "generate", "m-a", "m-b", "Hi")
    with pytest.raises(InputError, match="not shown"):
        store.record_vote("b-1", "mallory", None, "a", anonymous=True)
    assert store.votes().empty
    assert store.record_vote("b-1", "alice", None, "a", anonymous=True)


def test_every_shared_text_is_bounded(store):
    with pytest.raises(InputError, match="title"):
        store.create_room("BIG1", "x" * 100_000, "scrypt$x")
    store.create_room("ROOM2", "Week 2", "scrypt$x")
    with pytest.raises(InputError, match="exercise"):
        store.set_exercise("ROOM2", {"task": "generate", "prompt": "y" * 1_000_000, "models": []})
    with pytest.raises(InputError, match="name"):
        store.join_room("ROOM2", "s1", "z" * 5_000)
    store.create_battle("b-2", "s1", "ROOM2", "generate", "m-a", "m-b", "p" * 100_000)
    assert len(store.get_battle("b-2")["prompt"]) <= store.retention.max_chars


def test_a_formula_in_a_prompt_opens_as_text_in_both_exports(store, catalog):
    record(store, catalog, "alice", HYPERLINK, room="ROOM3")
    store.create_room("ROOM3", "x", "scrypt$x")
    frame = store.runs(scope=Scope("alice"))
    rows = list(csv.DictReader(io.StringIO(to_csv(frame))))
    assert rows[0]["input"] == "'" + HYPERLINK  # a leading apostrophe: a spreadsheet shows the text
    assert rows[0]["tokens_in"] in ("", "nan") or not rows[0]["tokens_in"].startswith("'")
    assert json.loads(to_json(frame))[0]["input"] == HYPERLINK  # JSON is unchanged
    export = store.export_room("ROOM3", Scope("teacher", rooms=frozenset({"ROOM3"})))
    with zipfile.ZipFile(io.BytesIO(rooms.export_csv_zip(export))) as archive:
        runs_csv = list(csv.DictReader(io.StringIO(archive.read("runs.csv").decode())))
    assert runs_csv[0]["input"] == "'" + HYPERLINK
    with pytest.raises(InputError):
        store.export_room("ROOM3", Scope("alice"))  # a student of the room cannot export it


@pytest.mark.parametrize(
    "answer",
    ["I am ChatGPT.", "As GPT4o, I think so.", "I'm Bard.", "Built with HuggingFace tools.", "我是通义千问。",
     "I'm ChatGPT, a model made by Open AI."],
)  # fmt: skip
def test_an_answer_naming_any_assistant_is_not_anonymous(catalog, answer):
    battle = arena.Battle("b", "generate", "smollm2-135m", "smollm2-135m-int4")
    assert not arena.is_anonymous(catalog, battle, answer, "Paris is the capital of France.")
    assert arena.is_anonymous(catalog, battle, "The city was bombarded.", "Paris is the capital of France.")
