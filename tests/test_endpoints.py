"""Several base URLs per model, against two real `transformers serve` processes serving SmolLM2: round robin, the
endpoint that answered named on the result and in the store, one server killed mid-test while calls keep
succeeding through the other, health checks, and a 4xx that rests nothing."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from playground import (
    CatalogError,
    Credentials,
    Endpoint,
    GenParams,
    Playground,
    Request,
    Result,
    RunContext,
    load_catalog,
)
from playground.endpoints import EndpointPool, is_healthy, pool_for, split_urls
from playground.runner import final_of
from playground.store import Store
from tests.apptest import app_page
from tests.conftest import free_port, transformers_serve

SHORT = Request("generate", prompt="Say hi.", params=GenParams(temperature=0, max_new_tokens=3))


@pytest.fixture(scope="module")
def two_servers(smollm2_folder, tmp_path_factory):
    """Two `transformers serve` processes of the same model; ``stops[i]()`` kills server i (terminate and wait)."""
    stacks = [ExitStack(), ExitStack()]
    urls = []
    for i, stack in enumerate(stacks):
        endpoint = stack.enter_context(transformers_serve(smollm2_folder, tmp_path_factory.mktemp(f"hf_home_{i}")))
        urls.append(endpoint.base_url)
    yield urls, endpoint.model, [stack.close for stack in stacks]
    for stack in stacks:
        stack.close()


@pytest.fixture(scope="module")
def replicas_catalog(two_servers, tmp_path_factory):
    """A catalog provider with both servers under ``base_urls``, as a lab would declare its vLLM replicas."""
    urls, model, _ = two_servers
    extra = tmp_path_factory.mktemp("catalog") / "replicas.toml"
    extra.write_text(
        f"""
[providers.lab-vllm]
name = "Lab servers"
kind = "openai-compat"
base_urls = {list(urls)!r}
key_env = "LAB_VLLM_KEY"
key_optional = true

[[models]]
id = "lab-smollm2"
name = "SmolLM2 on the lab servers"
tasks = ["generate"]
openness = "open"
license = "Apache-2.0"
provider = "lab-vllm"
backend = "openai-compat"
source = "{model}"
""".replace("'", '"')
    )
    return load_catalog(extra)


def test_a_catalog_provider_lists_its_urls(tmp_path):
    extra = tmp_path / "bad.toml"
    extra.write_text('[providers.lab]\nname = "Lab"\nkind = "openai-compat"\nbase_urls = "http://a:1/v1"\n')
    with pytest.raises(CatalogError, match="base_urls must be a list"):
        load_catalog(extra)
    extra.write_text('[providers.lab]\nname = "Lab"\nkind = "openai-compat"\nbase_urls = ["http://a:1/v1"]\n')
    assert load_catalog(extra).providers["lab"].base_urls == ("http://a:1/v1",)


def test_urls_come_from_a_list_or_a_comma_separated_string():
    assert split_urls(" http://a:1/v1/ , http://b:2/v1,,http://a:1/v1") == ("http://a:1/v1", "http://b:2/v1")
    assert split_urls(["http://a:1/v1"]) == ("http://a:1/v1",) and split_urls("") == ()
    assert pool_for("http://a:1/v1, http://b:2/v1") is pool_for(["http://a:1/v1", "http://b:2/v1/"])


def test_round_robin_names_the_endpoint_then_one_server_dies_and_calls_keep_succeeding(
    two_servers, replicas_catalog, tmp_path
):
    urls, _, stops = two_servers
    assert replicas_catalog.providers["lab-vllm"].base_urls == tuple(urls)
    playground = Playground(replicas_catalog, Store(tmp_path / "runs.sqlite"))
    context = RunContext("generate", "s-1")

    answered = []
    for _ in range(3):
        final = playground.run_one("lab-smollm2", SHORT, Credentials(), context)
        assert isinstance(final, Result) and final.text, final
        answered.append(final.extra["endpoint"])
    assert answered in ([urls[0], urls[1], urls[0]], [urls[1], urls[0], urls[1]])

    dead, alive = answered[1], answered[0]  # the next call's turn falls on the server killed now
    stops[urls.index(dead)]()
    assert not is_healthy(dead) and is_healthy(alive)
    after = []
    for _ in range(2):
        final = playground.run_one("lab-smollm2", SHORT, Credentials(), context)
        assert isinstance(final, Result) and final.text, final  # the call that met the dead server failed over
        after.append(final.extra["endpoint"])
    assert after == [alive, alive]
    pool = pool_for(urls)
    assert pool.usable() == [alive]  # the dead one rests
    assert pool.check() == {alive: True, dead: False}

    stored = playground.store.runs()
    assert list(stored["endpoint"]) == answered + after and stored["error"].isna().all()


def test_the_self_hosted_field_takes_several_urls(two_servers):
    """The sidebar field (or PLAYGROUND_SELF_HOSTED_URL) with a comma-separated list: calls go to a live server
    (one of the two was killed by the test before)."""
    urls, model, _ = two_servers
    catalog = load_catalog()
    own = Credentials(self_hosted=Endpoint(f"{urls[1]}, {urls[0]}", model))
    for _ in range(2):
        final = final_of(catalog, "self-hosted", SHORT, own)
        assert isinstance(final, Result) and final.extra["endpoint"] in urls, final


def test_a_request_error_rests_no_endpoint(two_servers):
    """A 4xx (here an unknown model name) is the request's fault: the server stays in turn."""
    live = next(u for u in two_servers[0] if is_healthy(u))
    pair = f"{live}, http://127.0.0.1:{free_port()}/v1"
    final = final_of(load_catalog(), "self-hosted", SHORT, Credentials(self_hosted=Endpoint(pair, "no-such-model")))
    assert not isinstance(final, Result)
    assert live in pool_for(pair).usable()


def test_when_every_endpoint_is_down_the_call_fails_fast_with_the_servers_error():
    pair = f"http://127.0.0.1:{free_port()}/v1, http://127.0.0.1:{free_port()}/v1"
    final = final_of(load_catalog(), "self-hosted", SHORT, Credentials(self_hosted=Endpoint(pair, "m")), timeout_s=30)
    assert not isinstance(final, Result) and "Cannot reach" in final.message
    assert pool_for(pair).usable() == []


def test_a_health_check_brings_a_rested_server_back(two_servers):
    live = next(u for u in two_servers[0] if is_healthy(u))
    pool = EndpointPool([live, f"http://127.0.0.1:{free_port()}/v1"], health_interval_s=3600)
    pool.rest(live)
    assert live not in pool.usable()
    assert pool.check()[live] is True and live in pool.usable()
    assert [pool.pick() for _ in range(3)] == [live] * 3  # the dead one stays out of turn


def test_the_card_names_the_endpoint_that_answered(monkeypatch, two_servers, tmp_path):
    """Generate, with the self-hosted field holding a dead URL first and a live one second: the card's metrics line
    names the live one."""
    live = next(u for u in two_servers[0] if is_healthy(u))
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env = {"PLAYGROUND_SELF_HOSTED_URL": f"{dead},{live}", "PLAYGROUND_SELF_HOSTED_MODEL": two_servers[1]}
    with app_page(monkeypatch, "generate", PLAYGROUND_DB=str(tmp_path / "runs.sqlite"), **env) as at:
        at.multiselect(key="generate_models").set_value(["self-hosted"]).run()
        next(n for n in at.number_input if n.label == "Max new tokens").set_value(3).run()
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception and not at.error
        assert [c.value for c in at.caption if c.value.endswith(f"on {live}")], [c.value for c in at.caption]


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/v1", "http://[::1/v1", "ftp://127.0.0.1/v1", "http://:80/v1"])
def test_a_base_url_that_cannot_be_an_address_is_an_input_error_without_a_call(url):
    from playground import Credentials, Endpoint, Request, availability, load_catalog
    from playground.runner import final_of

    catalog = load_catalog()
    credentials = Credentials(self_hosted=Endpoint(url, "m", ""))
    failure = final_of(catalog, "self-hosted", Request("generate", prompt="hi"), credentials)
    assert failure.code == "input" and url in failure.message and "Unexpected" not in failure.message
    assert not availability(catalog, catalog.get("self-hosted"), credentials).ready
