"""The generation engine against real models: the embedded SmolLM2 and a real `transformers serve` process."""

from __future__ import annotations

import pytest

from playground.backends.openai_compat import OpenAIChatBackend
from playground.catalog import CatalogError, load_catalog
from playground.events import Credentials, Endpoint, Failure, GenParams, Notice, Request, Result, Token
from playground.runner import final_of, run_side_by_side

GREEDY = GenParams(temperature=0, max_new_tokens=24)
FRANCE = Request("generate", prompt="What is the capital of France?", params=GREEDY)


def collect(events):
    tokens, finals, notices = {}, {}, {}
    for event in events:
        if isinstance(event, Token):
            tokens.setdefault(event.model_id, []).append(event.text)
        elif isinstance(event, Notice):
            notices.setdefault(event.model_id, []).append(event.message)
        else:
            finals[event.model_id] = event
    return tokens, finals, notices


def test_embedded_smollm2_answers_and_streams(catalog, smollm2_folder):
    from transformers import AutoTokenizer

    tokens, finals, _ = collect(run_side_by_side(catalog, ["smollm2-135m"], FRANCE))
    result = finals["smollm2-135m"]
    assert isinstance(result, Result), result
    assert "Paris" in result.text
    assert len(tokens["smollm2-135m"]) >= 3, "expected the answer to arrive in several chunks"
    assert "".join(tokens["smollm2-135m"]) == result.text
    tokenizer = AutoTokenizer.from_pretrained(smollm2_folder)
    prompt_ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": FRANCE.prompt}], tokenize=True, add_generation_prompt=True, return_dict=True
    )["input_ids"]
    assert result.metrics.input_tokens == len(prompt_ids)
    # the generated ids decode to the text, plus the end-of-turn token the streamer hides
    assert result.metrics.output_tokens in (
        len(tokenizer(result.text)["input_ids"]),
        len(tokenizer(result.text)["input_ids"]) + 1,
    )
    m = result.metrics
    assert 0 < m.ttft_s <= m.total_s and m.tokens_per_s and m.tokens_per_s > 0
    # the card's "in memory" is the weights the model holds: 134.5M fp32 parameters, about what they take on disk
    assert result.extra["memory_bytes"] == pytest.approx(134.5e6 * 4, rel=0.01)
    assert result.extra["memory_bytes"] == pytest.approx(result.extra["disk_bytes"], rel=0.05)


def test_long_prompt_is_truncated_with_a_notice(catalog):
    request = Request(
        "generate", prompt="word " * 9000 + "\nWhat is 2+2?", params=GenParams(temperature=0, max_new_tokens=4)
    )
    _, finals, notices = collect(run_side_by_side(catalog, ["smollm2-135m"], request))
    assert isinstance(finals["smollm2-135m"], Result)
    assert any("truncated" in n for n in notices["smollm2-135m"])
    assert finals["smollm2-135m"].metrics.input_tokens <= 8192 - 4


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.slow  # starts a server process of its own
def test_openai_compatible_backend_against_transformers_serve(catalog, serve_credentials, stream):
    backend = OpenAIChatBackend(catalog.providers, stream=stream)
    events = list(backend.execute(catalog.get("self-hosted"), FRANCE, serve_credentials))
    result = events[-1]
    assert isinstance(result, Result), result
    assert "Paris" in result.text
    assert result.metrics.input_tokens and result.metrics.input_tokens > 10
    assert result.metrics.output_tokens and result.metrics.output_tokens >= 3
    tokens = [e for e in events if isinstance(e, Token)]
    assert (len(tokens) >= 3) if stream else not tokens
    m = result.metrics
    if stream:
        assert 0 < m.ttft_s < m.total_s and m.tokens_per_s > 0
    else:  # the whole answer arrives at once: no first token to time, so no throughput either
        assert m.ttft_s == m.total_s and m.tokens_per_s is None


def test_dead_port_gives_a_clear_failure(catalog, smollm2_folder):
    from tests.conftest import free_port

    dead = Credentials(self_hosted=Endpoint(f"http://127.0.0.1:{free_port()}/v1", "any"))
    final = final_of(catalog, "self-hosted", FRANCE, dead)
    assert isinstance(final, Failure)
    assert "Cannot reach" in final.message and "127.0.0.1" in final.message


def test_runner_side_by_side_and_failure_isolation(catalog, serve_credentials):
    """Two real models both finish; an unknown id and a keyless API model fail alone, without a network call."""
    ids = ["smollm2-135m", "self-hosted", "no-such-model", "gpt-4o"]
    _, finals, _ = collect(run_side_by_side(catalog, ids, FRANCE, serve_credentials))
    assert set(finals) == set(ids)
    assert isinstance(finals["smollm2-135m"], Result) and "Paris" in finals["smollm2-135m"].text
    assert isinstance(finals["self-hosted"], Result) and "Paris" in finals["self-hosted"].text
    assert "Unknown model 'no-such-model'" in finals["no-such-model"].message
    assert "OPENAI_API_KEY" in finals["gpt-4o"].message and finals["gpt-4o"].metrics is None


def test_runner_times_out_a_slow_model_but_keeps_the_others(catalog):
    slow = Request("generate", prompt="Count to a thousand.", params=GenParams(temperature=0, max_new_tokens=2000))
    _, finals, _ = collect(run_side_by_side(catalog, ["smollm2-135m", "gpt-4o"], slow, timeout_s=1.5))
    assert "No answer within" in finals["smollm2-135m"].message
    assert "OPENAI_API_KEY" in finals["gpt-4o"].message
    # the timed-out generation was cancelled, so the shared model is free again well before 2000 tokens
    final = final_of(catalog, "smollm2-135m", FRANCE, timeout_s=20)
    assert isinstance(final, Result) and "Paris" in final.text


def test_adding_an_openai_compatible_provider_is_data_only(tmp_path, serve_endpoint):
    extra = tmp_path / "extra.toml"
    extra.write_text(
        f"""
[providers.my-lab]
name = "My lab's vLLM"
kind = "openai-compat"
base_url = "{serve_endpoint.base_url}"
key_env = "MY_LAB_KEY"
key_optional = true

[[models]]
id = "lab-smollm"
name = "Lab SmolLM"
tasks = ["generate"]
openness = "open"
license = "Apache-2.0"
provider = "my-lab"
backend = "openai-compat"
source = "{serve_endpoint.model}"
"""
    )
    catalog = load_catalog(extra)
    final = final_of(catalog, "lab-smollm", FRANCE)
    assert isinstance(final, Result) and "Paris" in final.text


def test_malformed_catalog_entry_names_the_entry(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[models]]\nid = "typo"\nname = "T"\ntasks = ["generate"]\nopenness = "open"\nlicense = "x"\nprovider = "nowhere"\nbackend = "causal-lm"\n'
    )
    with pytest.raises(CatalogError, match=r"Model 'typo'.*provider 'nowhere'"):
        load_catalog(bad)


def test_a_stream_that_stalls_midway_times_out_and_keeps_the_partial_text(catalog):
    """A real HTTP server that sends two tokens, then goes silent: the read timeout must end the call cleanly."""
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Stalling(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ("Hello", " there"):
                chunk = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            time.sleep(5)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        credentials = Credentials(self_hosted=Endpoint(f"http://127.0.0.1:{server.server_address[1]}/v1", "m"))
        backend = OpenAIChatBackend(catalog.providers, timeout_s=1.0)
        events = list(backend.execute(catalog.get("self-hosted"), FRANCE, credentials))
    finally:
        server.shutdown()
    final = events[-1]
    assert isinstance(final, Failure) and final.code == "timeout" and "went quiet" in final.message
    assert final.partial_text == "Hello there"


def test_an_answer_cut_mid_character_does_not_end_in_a_replacement_character(smollm2_folder):
    """max_new_tokens can split a Chinese character's byte tokens: the final text drops the half character."""
    import threading

    from transformers import AutoTokenizer

    from playground.backends.local_generate import _Detokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_folder)
    ids = tokenizer.encode("开放", add_special_tokens=False)
    cut = next(n for n in range(1, len(ids)) if tokenizer.decode(ids[:n]).endswith("\ufffd"))
    text = _Detokenizer(tokenizer, threading.Lock())
    text.add(ids[:cut])
    assert "\ufffd" not in text.shown + text.rest()


def test_params_out_of_range_are_refused_before_any_model_runs(catalog, tmp_path):
    from playground import InputError, Playground
    from playground.store import Store

    playground = Playground(catalog, Store(tmp_path / "runs.sqlite"))
    for bad in (GenParams(temperature=float("nan")), GenParams(seed=2**70), GenParams(max_new_tokens=0)):
        with pytest.raises(InputError):
            list(playground.run(["smollm2-135m", "gpt-4o"], Request("generate", prompt="Hi", params=bad)))
    assert playground.store.runs().empty


def test_default_seed_draws_anew_and_a_fixed_seed_repeats(catalog):
    """Thirty students at temperature 0.7 must not all read the same words; a fixed seed is the explicit way back."""

    def answer(params: GenParams) -> str:
        request = Request("generate", prompt="Write a short poem about the sea.", params=params)
        _, finals, _ = collect(run_side_by_side(catalog, ["smollm2-135m"], request))
        assert isinstance(finals["smollm2-135m"], Result), finals
        return finals["smollm2-135m"].text

    assert GenParams().seed is None
    drawn = {answer(GenParams(temperature=0.7, max_new_tokens=24)) for _ in range(2)}
    assert len(drawn) == 2, drawn
    fixed = GenParams(temperature=0.7, max_new_tokens=24, seed=1234)
    assert answer(fixed) == answer(fixed)
