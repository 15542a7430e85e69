"""A broken catalog file is an error that names the file (and the line, the entry and the field), never a traceback."""

from __future__ import annotations

import pytest

from playground.catalog import CATALOG_PATH, load_catalog
from playground.errors import CatalogError

MODEL = """
[[models]]
id = "{id}"
name = "X"
tasks = {tasks}
openness = "open"
license = "MIT"
provider = "{provider}"
backend = "causal-lm"
{extra}"""


def entry(model_id="extra-model", tasks='["generate"]', provider="local", extra=""):
    return MODEL.format(id=model_id, tasks=tasks, provider=provider, extra=extra)


def write(tmp_path, text, name="extra.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, entry() + 'oops = "unclosed\n')
    with pytest.raises(CatalogError, match=rf"{path} is not valid TOML.*at line 10"):
        load_catalog(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CatalogError, match=r"nowhere\.toml does not exist") as caught:
        load_catalog(tmp_path / "nowhere.toml")
    assert "PLAYGROUND_CATALOG" in caught.value.hint


def test_non_utf8_file_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(entry().replace('"X"', '"Café"').encode("latin-1"))
    with pytest.raises(CatalogError, match=rf"{path} is not UTF-8 text \(byte 0xe9"):
        load_catalog(path)


def test_a_duplicate_model_id_is_an_error_unless_it_says_replace(tmp_path):
    with pytest.raises(CatalogError, match=r"extra\.toml: Model 'smollm2-135m' is declared twice.*replace = true"):
        load_catalog(write(tmp_path, entry("smollm2-135m")))
    replaced = load_catalog(write(tmp_path, entry("smollm2-135m", extra="replace = true"), "replace.toml"))
    assert replaced.get("smollm2-135m").name == "X"


def test_a_duplicate_within_one_file_is_an_error_even_with_replace(tmp_path):
    with pytest.raises(CatalogError, match="declared twice"):
        load_catalog(write(tmp_path, entry() + entry(extra="replace = true")))


def test_a_duplicate_provider_needs_replace(tmp_path):
    provider = '[providers.openai]\nname = "Mine"\nkind = "openai-compat"\nbase_url = "http://127.0.0.1:9/v1"\n'
    with pytest.raises(CatalogError, match="Provider 'openai' is declared twice"):
        load_catalog(write(tmp_path, provider))
    catalog = load_catalog(write(tmp_path, provider + "replace = true\n", "replace.toml"))
    assert catalog.providers["openai"].name == "Mine"


def test_tasks_as_a_string_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match=r"Model 'extra-model': 'tasks' must be a list of strings.*not 'generate'"):
        load_catalog(write(tmp_path, entry(tasks='"generate"')))


def test_empty_tasks_and_wrong_field_types_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="tasks is empty"):
        load_catalog(write(tmp_path, entry(tasks="[]")))
    with pytest.raises(CatalogError, match="'context' must be a int, not 'big'"):
        load_catalog(write(tmp_path, entry(extra='context = "big"'), "context.toml"))


def test_unknown_provider_kind_is_refused(tmp_path):
    path = write(tmp_path, '[providers.mine]\nname = "Mine"\nkind = "grpc"\n')
    with pytest.raises(CatalogError, match=r"Provider 'mine': kind 'grpc' is not one of local, openai-compat"):
        load_catalog(path)


def test_the_bundled_catalog_loads_and_an_extra_model_adds(tmp_path):
    catalog = load_catalog(write(tmp_path, entry()))
    assert catalog.get("extra-model").tasks == ("generate",)
    assert CATALOG_PATH.exists() and "smollm2-135m" in catalog.models


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[models]\nid = "x"\nname = "X"\n', r"\[models\] is a single table.*\[\[models\]\]"),
        ('[providers]\nmine = "http://127.0.0.1:8000/v1"\n', r"\[providers\] entry 'mine' must be a table"),
        ('providers = ["a"]\n', r"'providers' must hold tables"),
        ('models = ["a"]\n', r"'models' must be a list of \[\[models\]\] tables"),
        ('[licenses]\nMIT = "yes"\n', r"\[licenses\] entry 'MIT'"),
    ],
)
def test_a_catalog_of_the_wrong_shape_is_named_with_its_file(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(CatalogError, match=rf"{path}: {named}"):
        load_catalog(path)


def test_models_declare_their_languages_and_bad_codes_are_refused(tmp_path):
    catalog = load_catalog()
    assert catalog.get("smollm2-135m").languages == ("en",) and not catalog.get("smollm2-135m").reads("zh")
    assert catalog.get("qwen2.5-0.5b").reads("zh") and catalog.get("gpt-4o-mini").reads("zh")  # not stated: any
    with pytest.raises(CatalogError, match=r"extra-model.*languages \['English'\]"):
        load_catalog(write(tmp_path, entry(extra='languages = ["English"]\n')))
    with pytest.raises(CatalogError, match=r"'languages' must be a list of strings"):
        load_catalog(write(tmp_path, entry(extra='languages = "en"\n')))
