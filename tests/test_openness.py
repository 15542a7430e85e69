"""Openness cards: built from the catalog alone, placed on the spectrum by their facts, sizes computed, unknowns
said as unknown, and the catalog refusing malformed facts with the file and entry named."""

from __future__ import annotations

import pytest
from genai_prices import Usage, calc_price

from playground.catalog import CatalogError, load_catalog
from playground.i18n import set_language
from playground.openness import SPECTRUM, build_card, memory_estimates, parse_params, price_data_date, spectrum_position


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language("en")


def facts_of(card) -> dict[str, str]:
    return {fact.label: fact.value for fact in card.facts}


def test_every_catalog_model_has_a_full_card_in_both_languages(catalog):
    for language in ("en", "zh_CN"):
        set_language(language)
        for spec in catalog.models.values():
            card = build_card(catalog, spec)
            assert card.position in (*SPECTRUM, "unknown")
            assert len(card.facts) >= 9 and all(f.value for f in card.facts), spec.id


def test_spectrum_positions_follow_the_facts(catalog):
    position = {mid: spectrum_position(catalog, spec) for mid, spec in catalog.models.items()}
    assert {position[m] for m in ("gpt-4o", "gpt-4o-mini", "claude-haiku", "gemini-flash", "ernie-4.5-turbo")} == {
        "closed-api"
    }
    assert position["smollm2-135m"] == "open-weights-data-code"  # Apache-2.0, data and code published
    assert position["qwen2.5-0.5b"] == "open-weights-permissive"  # Apache-2.0, data not published
    assert position["bloom-560m"] == "open-weights-restricted"  # RAIL use restrictions
    assert position["bert-ag-news"] == "open-weights-restricted"  # no licence stated grants nothing
    assert position["deepseek-chat"] == "open-weights-permissive"  # an API, but its weights are published under MIT
    assert position["self-hosted"] == "unknown"


def test_sizes_and_memory_are_computed_from_parameters_and_precision(catalog):
    assert parse_params("135M") == 135e6 and parse_params("≈250M") == 250e6 and parse_params("671B") == 671e9
    assert parse_params("not published") is None
    estimates = {e.dtype: e for e in memory_estimates(135e6, "bf16")}
    assert set(estimates) == {"bf16", "int4"}
    assert estimates["bf16"].weights_bytes == 270e6 and estimates["bf16"].memory_bytes == pytest.approx(324e6)
    assert estimates["int4"].weights_bytes == 67.5e6
    card = facts_of(build_card(catalog, catalog.get("smollm2-135m")))
    assert "270 MB in bf16" in card["Weights"] and "324 MB" in card["Hardware needed"]


def test_where_the_prompt_goes_and_unknowns(catalog):
    local = facts_of(build_card(catalog, catalog.get("smollm2-135m")))
    assert local["Where your prompt goes"].startswith("Stays on this machine")
    assert local["Price"].startswith("No API fee")
    card = build_card(catalog, catalog.get("gpt-4o-mini"))
    api = facts_of(card)
    assert "OpenAI" in api["Where your prompt goes"]
    assert next(f.url for f in card.facts if f.label == "Where your prompt goes").startswith("https://")
    assert api["Parameters"] == "unknown" and api["Weights"].startswith("Not published")
    hosted = facts_of(build_card(catalog, catalog.get("self-hosted")))
    assert hosted["Parameters"] == "unknown" and hosted["Training data"] == "unknown"
    assert "your network" in hosted["Where your prompt goes"]


def test_api_price_comes_from_genai_prices_with_its_date(catalog):
    api = facts_of(build_card(catalog, catalog.get("gpt-4o-mini")))
    per_input = calc_price(
        Usage(input_tokens=1_000_000, output_tokens=0), model_ref="gpt-4o-mini", provider_id="openai"
    )
    assert f"${float(per_input.total_price):.2f} per million input tokens" in api["Price"]
    assert "genai-prices" in api["Price"] and price_data_date() is not None
    unpriced = facts_of(build_card(catalog, catalog.get("ernie-4.5-turbo")))
    assert unpriced["Price"].startswith("unknown")


def test_the_card_speaks_chinese(catalog):
    set_language("zh_CN")
    card = build_card(catalog, catalog.get("ernie-4.5-0.3b"))
    assert card.name == "文心 ERNIE-4.5-0.3B" and "百度" in card.notes
    assert "亿" in facts_of(card).get("参数量", "")


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ('[licenses."Apache-2.0"]\ncommercial = "maybe"\n', "commercial 'maybe' is not one of"),
        ('[openness."no-such-model"]\ntraining_data = "open"\n', "no model has this id"),
        ('[openness."smollm2-135m"]\ntraining_data = "mostly"\n', "training_data 'mostly'"),
        ('[openness."smollm2-135m"]\nweights_dtype = "fp64"\n', "weights_dtype 'fp64'"),
        ('[openness."smollm2-135m"]\nparameters = "1B"\n', "unexpected keyword argument 'parameters'"),
    ],
)
def test_malformed_facts_name_the_file_and_the_entry(tmp_path, extra, complaint):
    path = tmp_path / "extra.toml"
    path.write_text(extra, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert complaint in str(caught.value) and str(path) in str(caught.value)


def test_an_extra_catalog_file_can_add_facts(tmp_path):
    path = tmp_path / "extra.toml"
    path.write_text('[openness."self-hosted"]\nweights = "hub:Qwen/Qwen2.5-0.5B-Instruct"\n', encoding="utf-8")
    spec = load_catalog(path).get("self-hosted")
    assert spec.facts.weights == "hub:Qwen/Qwen2.5-0.5B-Instruct" and spec.facts.name_zh == ""
