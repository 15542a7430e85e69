"""Budgets and the rate limit on the server's keys, through the real engine, the real openai SDK and real databases.

The provider is ``tests/fake_openai.py``: fake because it has to count the requests that reached it (a refused call
must never arrive) and answer with a fixed, known usage (7 tokens in, 3 out), so the settled cost is exact. It is
priced as gpt-4o by genai-prices.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground import Credentials, Failure, GenParams, Playground, Request, Result, RunContext, errors
from playground.access import RateLimiter
from playground.budget import Caps, Gate, worst_case_usd
from playground.catalog import load_catalog
from playground.pricing import api_cost
from playground.store import Store
from tests.fake_openai import fault_server

MODEL = "priced"  # any name the fake server has no fault for streams "Hello there friend" with usage 7 in / 3 out


@pytest.fixture(scope="module")
def server():
    with fault_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def priced_catalog(server, tmp_path_factory):
    extra = tmp_path_factory.mktemp("budget") / "priced.toml"
    extra.write_text(
        f'[providers.faulty]\nname = "Faulty"\nkind = "openai-compat"\nbase_url = "{server.base_url}"\n'
        f'key_env = "FAULTY_API_KEY"\nprice_provider = "openai"\n\n'
        f'[[models]]\nid = "{MODEL}"\nname = "Priced"\ntasks = ["generate"]\nopenness = "closed"\n'
        f'license = "proprietary"\nprovider = "faulty"\nbackend = "openai-compat"\nsource = "{MODEL}"\n'
        f'price_ref = "gpt-4o"\n'
    )
    return load_catalog(extra)


@pytest.fixture(autouse=True)
def server_key(monkeypatch):
    monkeypatch.setenv("FAULTY_API_KEY", "sk-server-instructor-key")
    for name in ("PLAYGROUND_BUDGET_SESSION_USD", "PLAYGROUND_BUDGET_DAY_USD", "PLAYGROUND_SERVER_KEYS"):
        monkeypatch.delenv(name, raising=False)


def ask(max_new_tokens: int) -> Request:
    return Request("generate", prompt="Hi", params=GenParams(temperature=0, max_new_tokens=max_new_tokens))


def real_cost(catalog) -> float:
    spec = catalog.get(MODEL)
    return api_cost(spec, catalog.provider_of(spec), 7, 3).usd


def test_the_call_that_would_pass_the_session_cap_never_reaches_the_server(
    server, priced_catalog, tmp_path, monkeypatch
):
    monkeypatch.setenv("PLAYGROUND_BUDGET_SESSION_USD", "0.01")
    store = Store(tmp_path / "runs.sqlite")
    playground = Playground(priced_catalog, store, Gate(store))
    context = RunContext("generate", session_id="student-a")
    big, small = ask(1000), ask(100)
    assert worst_case_usd(priced_catalog, priced_catalog.get(MODEL), big) > 0.01 > 0.001  # 1000 tokens out > cap

    before = server.calls.get(MODEL, 0)
    refused = playground.run_one(MODEL, big, Credentials(), context)
    assert isinstance(refused, Failure) and refused.code == errors.BUDGET
    assert server.calls.get(MODEL, 0) == before  # nothing was sent
    assert "left" in refused.message and "admin" in refused.hint and "own key" in refused.hint
    assert store.runs().iloc[-1]["error_code"] == errors.BUDGET  # the refusal is in history too

    answered = playground.run_one(MODEL, small, Credentials(), context)
    assert isinstance(answered, Result) and server.calls[MODEL] == before + 1
    assert store.spent(session_id="student-a") == pytest.approx(real_cost(priced_catalog))  # the real cost settled
    assert answered.cost.usd == pytest.approx(real_cost(priced_catalog))

    # a student's own key is theirs: the same big call goes through
    own = playground.run_one(MODEL, big, Credentials(api_keys={"faulty": "sk-student-own"}), context)
    assert isinstance(own, Result) and server.calls[MODEL] == before + 2
    assert store.spent(session_id="student-a") == pytest.approx(real_cost(priced_catalog))  # not counted


def test_thirty_threads_on_one_small_room_budget_never_overspend(server, priced_catalog, db_url):
    store = Store(db_url)
    store.create_room("ROOM7", "Week 7", "scrypt$x")
    cap = 0.0012  # one worst case (100 tokens out: ~0.00105) fits; settled calls free most of it again
    store.set_room_budget("ROOM7", cap)
    playground = Playground(priced_catalog, store, Gate(store))
    before = server.calls.get(MODEL, 0)
    finals: list = []
    start = threading.Barrier(30)

    def student(i: int) -> None:
        start.wait()
        finals.append(playground.run_one(MODEL, ask(100), Credentials(), RunContext("room", f"s{i}", room="ROOM7")))

    threads = [threading.Thread(target=student, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [f for f in finals if isinstance(f, Result)]
    refused = [f for f in finals if isinstance(f, Failure)]
    assert len(finals) == 30 and answered and refused
    assert all(f.code == errors.BUDGET and "instructor" in f.hint for f in refused)
    assert server.calls[MODEL] - before == len(answered)  # every refused call stayed here
    assert store.spent(room="ROOM7") <= cap
    assert store.spent(room="ROOM7") == pytest.approx(len(answered) * real_cost(priced_catalog))
    store.close()


def test_reservations_racing_in_the_store_stop_exactly_at_the_cap(db_url):
    """30 threads, two Store objects (two replicas): each reserves 0.001 against a cap of 0.0105, none settles."""
    stores = [Store(db_url), Store(db_url)]
    results: list = []
    start = threading.Barrier(30)

    def reserve(i: int) -> None:
        start.wait()
        results.append(stores[i % 2].reserve(0.001, f"s{i}", "R", "m", "2026-12-05", Caps(None, 0.0105, None)))

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, int) for r in results) == 10
    assert stores[0].spent(room="R") == pytest.approx(0.010)
    for store in stores:
        store.close()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["reserve", "settle", "refund"]), st.floats(0, 0.4), st.floats(0, 1)),
        max_size=25,
    )
)
def test_property_spending_never_passes_the_cap(steps):
    """Any sequence of reserve / settle (at most the reserved amount) / refund keeps the sum spent under the cap."""
    cap = 1.0
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "p.sqlite")
        held: dict[int, float] = {}
        for action, amount, fraction in steps:
            if action == "reserve":
                got = store.reserve(amount, "s", None, "m", "d", Caps(cap, None, None))
                if isinstance(got, int):
                    held[got] = amount
            elif held:
                reservation, reserved = held.popitem()
                if action == "settle":
                    store.settle(reservation, reserved * fraction)
                else:
                    store.refund(reservation)
            assert store.spent(session_id="s") <= cap + 1e-9
        store.close()


def test_the_eleventh_call_in_a_minute_waits_and_then_goes_through(server, priced_catalog, tmp_path):
    now = [1000.0]
    store = Store(tmp_path / "runs.sqlite")
    playground = Playground(priced_catalog, store, Gate(store, limiter=RateLimiter(clock=lambda: now[0])))
    context = RunContext("generate", session_id="eager")
    before = server.calls.get(MODEL, 0)
    for _ in range(10):  # a burst: ten calls at once, the bucket's whole size
        assert isinstance(playground.run_one(MODEL, ask(5), Credentials(), context), Result)
    eleventh = playground.run_one(MODEL, ask(5), Credentials(), context)
    assert isinstance(eleventh, Failure) and eleventh.code == errors.RATE_LIMIT
    assert eleventh.retry_after_s == pytest.approx(6.0)  # 10 a minute: one comes back every 6 s
    assert "Try again in" in eleventh.hint and server.calls[MODEL] - before == 10
    other = playground.run_one(MODEL, ask(5), Credentials(), RunContext("generate", session_id="calm"))
    assert isinstance(other, Result)  # per session: another student is not slowed
    now[0] += 5.0
    assert playground.run_one(MODEL, ask(5), Credentials(), context).code == errors.RATE_LIMIT  # not yet
    now[0] += 1.0
    assert isinstance(playground.run_one(MODEL, ask(5), Credentials(), context), Result)


def test_who_may_use_the_server_keys(server, priced_catalog, tmp_path, monkeypatch):
    store = Store(tmp_path / "runs.sqlite")
    store.create_room("ROOM8", "t", "scrypt$x")
    store.join_room("ROOM8", "member", "Ann")
    playground = Playground(priced_catalog, store, Gate(store))
    monkeypatch.setenv("PLAYGROUND_SERVER_KEYS", "rooms")
    outside = playground.run_one(MODEL, ask(5), Credentials(), RunContext("generate", "stranger"))
    assert isinstance(outside, Failure) and outside.code == errors.AUTH and "room members" in outside.hint
    inside = playground.run_one(MODEL, ask(5), Credentials(), RunContext("room", "member", room="ROOM8"))
    assert isinstance(inside, Result)
    monkeypatch.setenv("PLAYGROUND_SERVER_KEYS", "admin")
    member = playground.run_one(MODEL, ask(5), Credentials(), RunContext("room", "member", room="ROOM8"))
    admin = playground.run_one(MODEL, ask(5), Credentials(), RunContext("generate", "boss", role="admin"))
    assert isinstance(member, Failure) and isinstance(admin, Result)


def test_the_budget_knows_a_key_from_a_secrets_file_as_the_servers(priced_catalog, monkeypatch, tmp_path):
    """One place (``resolve_access``) says where a key came from: the environment, a secrets file Streamlit was told
    about, or the session; only the server's own is budgeted."""
    from playground.budget import uses_server_key

    spec = priced_catalog.get(MODEL)
    typed = Credentials(api_keys={"faulty": "sk-student-own-key"})
    assert uses_server_key(priced_catalog, spec, Credentials())  # the environment's key
    assert not uses_server_key(priced_catalog, spec, typed)
    monkeypatch.delenv("FAULTY_API_KEY")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('FAULTY_API_KEY = "sk-from-the-secrets-file"\n')
    monkeypatch.setenv("STREAMLIT_SECRETS_FILES", str(secrets))
    # the page passes secrets.toml's keys on as the session's: still the server's money
    passed_on = Credentials(api_keys={"faulty": "sk-from-the-secrets-file"})
    assert uses_server_key(priced_catalog, spec, passed_on) and uses_server_key(priced_catalog, spec, Credentials())
    assert not uses_server_key(priced_catalog, spec, typed)
    monkeypatch.delenv("STREAMLIT_SECRETS_FILES")
    assert not uses_server_key(priced_catalog, spec, Credentials())  # no key anywhere: it fails before spending
