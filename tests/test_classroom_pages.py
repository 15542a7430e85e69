"""The Arena, Leaderboard and Room pages in AppTest, with two real local generators (SmolLM2 and a twin of it
loaded through a path: catalog entry) and a throwaway store per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground import READY, Credentials, arena, availability, load_catalog, rooms
from playground.store import Store
from tests.apptest import app_page

TWIN = "smollm2-twin"
NAMES = ("SmolLM2-135M-Instruct", "SmolLM2 twin", "smollm2", "Apache-2.0", "ONNX", "OpenVINO")
LOCAL_GENERATORS = {
    "smollm2-135m-ov-int4": "SmolLM2-135M-Instruct int4 (OpenVINO)",
    "smollm2-135m": "SmolLM2-135M-Instruct",
    "smollm2-135m-int4": "SmolLM2-135M-Instruct int4",
    TWIN: "SmolLM2 twin (path)",
}


@pytest.fixture
def twin_catalog(tmp_path, smollm2_folder) -> Path:
    """A second local generator: the same converted SmolLM2 weights under another id (offline, two local ones)."""
    path = tmp_path / "twin.toml"
    path.write_text(
        f"""[[models]]
id = "{TWIN}"
name = "SmolLM2 twin (path)"
tasks = ["generate"]
openness = "open"
license = "Apache-2.0"
params = "135M"
provider = "local"
backend = "causal-lm"
source = "path:{smollm2_folder}"
"""
    )
    return path


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "classroom.sqlite")


def texts(at) -> str:
    """Everything the page wrote, as one string (markdown, captions, headers, alerts, button labels)."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "subheader", "title", "header", "info", "success", "warning")
        for e in getattr(at, kind)
    ]
    return "\n".join(map(str, parts + [b.label for b in at.button]))


def test_arena_battle_is_blind_until_the_vote(monkeypatch, twin_catalog, db):
    with app_page(monkeypatch, "arena", twin_catalog, PLAYGROUND_DB=db) as at:
        assert f"{len(LOCAL_GENERATORS)} models are in the draw" in texts(
            at
        )  # OpenVINO int4, fp32, ONNX int4 and the twin
        at.text_area(key="arena_prompt").input("Name one colour.").run()
        at.slider(key="arena_max_tokens").set_value(8).run()
        at.button[0].click().run()  # New battle
        assert not at.exception
        before = texts(at)
        assert "Model A" in before and "Model B" in before
        assert not [n for n in NAMES if n in before], before
        at.button(key="vote_tie").click().run()
        after = texts(at)
        votes = Store(db).votes()
        pair = {votes["model_a"][0], votes["model_b"][0]}
        assert list(votes["choice"]) == ["tie"] and len(pair) == 2 and pair <= set(LOCAL_GENERATORS)
        assert all(LOCAL_GENERATORS[m] in after for m in pair) and "Vote counted" in after
        runs = Store(db).runs()
        assert len(runs) == 2 and set(runs["battle_id"]) == {votes["battle_id"][0]} and set(runs["page"]) == {"arena"}


def test_arena_draws_only_from_models_that_can_run(monkeypatch, db):
    for provider in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "QIANFAN_API_KEY"):
        monkeypatch.delenv(provider, raising=False)
    catalog = load_catalog()
    for task in ("generate", "caption"):
        ready = sum(availability(catalog, m, Credentials()).state == READY for m in catalog.for_task(task))
        with app_page(monkeypatch, "arena", PLAYGROUND_DB=db) as at:
            at.segmented_control(key="arena_task").set_value(task).run()
            page = texts(at)
            assert (f"{ready} models are in the draw" if ready >= 2 else "A battle needs two models") in page, page
            assert "GPT-4o" not in page  # never a keyless API model, and never a name


def in_chinese(at):
    at.session_state["language"] = "zh_CN"  # what ?lang=zh or the sidebar's switch sets
    return at.run()


def test_arena_draws_two_models_in_chinese(monkeypatch, twin_catalog, db):
    """The draw branches on a status value, not on its translation: in Chinese the same models can run."""
    with app_page(monkeypatch, "arena", twin_catalog, PLAYGROUND_DB=db) as at:
        in_chinese(at)
        assert f"共有 {len(LOCAL_GENERATORS)} 个模型参与抽取" in texts(at)
        at.text_area(key="arena_prompt").input("说一种颜色。").run()
        at.slider(key="arena_max_tokens").set_value(4).run()
        next(b for b in at.button if b.label == "新的对战").click().run()
        assert not at.exception
        battles = Store(db).runs()
        assert len(battles) == 2 and set(battles["model_id"]) <= set(LOCAL_GENERATORS)


def test_room_exercise_form_saves_in_chinese(monkeypatch, db):
    store = Store(db)
    store.create_room("ABCDEFGH", "Class", rooms.hash_pin("2468"))
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.session_state["instructor_rooms"] = {"ABCDEFGH"}
        at.query_params["room"] = "ABCDEFGH"
        in_chinese(at)
        form = at.multiselect[0]
        assert len(form.value) == 2 and set(form.value) <= set(LOCAL_GENERATORS)  # two ready models, by default
        assert "就绪" not in " ".join(form.options)  # a ready model carries no status suffix
        next(b for b in at.button if b.label == "保存练习").click().run()
        assert not at.exception
        saved = rooms.Exercise.from_dict(store.get_room("ABCDEFGH")["exercise"])
        assert set(saved.models) == set(form.value)


def _seed_votes(store: Store, room: str | None, n: int = 12) -> None:
    for i in range(n):
        battle = f"b{room}{i}"
        a, b = ("smollm2-135m", "gpt-4o-mini") if i % 2 else ("gpt-4o-mini", "smollm2-135m")
        store.create_battle(battle, f"s{i}", room, "generate", a, b, "Hi")
        store.record_vote(battle, f"s{i}", room, "a" if i % 3 else "tie", anonymous=i != 5)


def test_leaderboard_overall_and_per_room(monkeypatch, db):
    store = Store(db)
    store.create_room("ABCDEFGH", "Class", rooms.hash_pin("1234"))
    _seed_votes(store, None)
    _seed_votes(store, "ABCDEFGH", n=4)
    with app_page(monkeypatch, "leaderboard", PLAYGROUND_DB=db) as at:
        assert not at.exception
        assert [m.value for m in at.metric][:2] == ["16", "15"]  # all votes; the named one is not counted
        figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        titles = [f["layout"]["title"]["text"] for f in figures]
        assert any("95% interval" in t for t in titles) and any("row model beat" in t for t in titles)
        price = next(f for f in figures if "price" in f["layout"]["title"]["text"])
        # SmolLM2 is priced by this machine's rate over its measured speed: with no run measured yet, it is unpriced
        assert {tuple(trace["text"]) for trace in price["data"]} == {("GPT-4o mini",)}
        assert "Open beat closed" in [m.label for m in at.metric]
        at.text_input(key="leaderboard_room").input("abcd-efgh").run()
        assert [m.value for m in at.metric][:2] == ["4", "4"]
        at.text_input(key="leaderboard_room").input("ZZZZZZZZ").run()
        assert "no room with this code" in at.info[0].value


def test_room_instructor_creates_sets_an_exercise_and_exports(monkeypatch, db):
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.text_input[1].input("Week 3")  # a form: values go with its submit button
        at.text_input[2].input("12")  # too short a PIN
        at.button[1].click().run()
        assert "too short" in at.warning[0].value
        at.text_input[2].input("2468")
        at.button[1].click().run()
        assert not at.exception
        code = at.query_params["room"]
        assert rooms.normalize_code(code) == code
        assert any(f"room?room={code}" in c.value for c in at.code)  # the join link
        assert "Scan to join" in at.get("image")[0].captions  # and its QR code
        store = Store(db)
        assert store.get_room(code)["title"] == "Week 3" and "2468" not in store.get_room(code)["pin_hash"]
        assert {m.label for m in at.metric} >= {"Joined", "Ran the exercise", "Runs", "Class spent"}
        at.text_area[0].input("Say hi.")
        at.number_input[0].set_value(8)
        at.checkbox[0].check()
        at.multiselect[0].set_value(["smollm2-135m"])
        next(b for b in at.button if b.label == "Save the exercise").click().run()
        assert "two at least for a blind battle" in at.warning[-1].value and store.get_room(code)["exercise"] is None
        at.multiselect[0].set_value(["smollm2-135m", "gpt-4o-mini"])
        next(b for b in at.button if b.label == "Save the exercise").click().run()
        saved = rooms.Exercise.from_dict(store.get_room(code)["exercise"])
        assert saved.prompt == "Say hi." and saved.blind and saved.params.max_new_tokens == 8
        export = json.loads(rooms.export_json(store.export_room(code)))
        assert export["room"]["code"] == code and "pin_hash" not in export["room"]
        at.toggle(key="presenter").set_value(True).run()
        assert any("Run the exercise" in b.label for b in at.button)


def test_room_student_sees_the_exercise_and_cannot_open_controls_without_the_pin(monkeypatch, db):
    store = Store(db)
    store.create_room("ABCDEFGH", "Class", rooms.hash_pin("2468"))
    exercise = rooms.Exercise("generate", ("smollm2-135m", "gpt-4o-mini"), prompt="Why is the sky blue?", blind=True)
    store.set_exercise("ABCDEFGH", exercise.to_dict())
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:
        at.query_params["room"] = "abcdefgh"
        at.run()
        page = texts(at)
        assert "Why is the sky blue?" in page and "blind battle" in page
        assert "GPT-4o mini" not in page and "SmolLM2" not in page  # a blind exercise does not name its models
        assert next(b for b in at.button if b.label == "Run").disabled  # join first
        at.text_input[0].input("Ada")
        at.button[0].click().run()
        assert [m["display_name"] for m in store.room_members("ABCDEFGH")] == ["Ada"]
        at.text_input(key="unlock_pin").input("0000").run()
        next(b for b in at.button if b.label == "Unlock").click().run()
        assert "Wrong PIN" in at.warning[0].value and not at.get("toggle")
        at.text_input(key="unlock_pin").input("2468").run()
        next(b for b in at.button if b.label == "Unlock").click().run()
        assert at.toggle(key="presenter") is not None


def test_a_vote_for_someone_elses_battle_is_refused(db):
    """The rule the arena page applies in its vote callback, against the real store."""
    store = Store(db)
    store.create_battle("b1", "alice", None, "generate", "x", "y", "Hi")
    shown_to = store.get_battle("b1")["session_id"]
    assert arena.vote_refusal(shown_to, "mallory", "a", votes_cast=0) == "not_shown"
    assert arena.vote_refusal(shown_to, "alice", "a", votes_cast=0) is None
    assert store.record_vote("b1", "alice", None, "a", True) and not store.record_vote("b1", "alice", None, "b", True)
    assert len(store.votes()) == 1
