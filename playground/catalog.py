"""Typed view of catalog.toml, the one place models and providers are declared."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from dataclasses import replace as with_fields
from pathlib import Path

from playground.i18n import _, is_chinese

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
TASKS = ("generate", "classify", "caption")
LOCAL_BACKENDS = (
    "causal-lm",
    "seq2seq",
    "embedding-zero-shot",
    "sequence-classifier",
    "nli-zero-shot",
    "image-captioner",
    "vision-language",
    "image-classifier",
    "ocr",
    "image-pipeline",
)
BACKENDS = (*LOCAL_BACKENDS, "openai-compat")
RUNTIMES = (
    "transformers",
    "onnxruntime-genai",
    "openvino",
    "pytorch",
    "onnxruntime",
)  # what runs a local model's weights
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")  # ISO 639-1 (or -3) codes: "en", "zh", "yue"


from playground.errors import CatalogError  # noqa: E402  (re-exported: the catalog's own error)

# ---------------------------------------------------------------- openness facts: the cards and the Learn page
# Kept in their own tables of catalog.toml ([licenses."<id>"], [openness."<model id>"]) so each model stays one
# entry; "unknown" (or "") is a fact too, and the card says it instead of guessing.
LEVELS = ("open", "partial", "closed", "unknown")  # how much of the training data / training code is published
COMMERCIAL = ("yes", "restricted", "no", "unknown")  # what a licence allows for commercial use
DESTINATIONS = ("this-machine", "your-server", "vendor")  # where a provider sends the prompt
DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")


@dataclass(frozen=True)
class LicenseSpec:
    """A licence or a vendor's terms, named by the ``license`` field of models."""

    id: str
    url: str = ""
    commercial: str = "unknown"
    name_zh: str = ""

    @property
    def display_name(self) -> str:
        return self.name_zh if self.name_zh and is_chinese() else self.id


@dataclass(frozen=True)
class OpennessFacts:
    """What is published about a model. Empty strings and "unknown" mean nobody here is sure."""

    weights: str = ""  # where the weights are published: "hub:<org/name>" or a URL; "none" when never published
    weights_license: str = ""  # the weights' licence when it differs from the terms this entry is used under
    weights_dtype: str = ""  # precision of the published weights (one of DTYPES)
    training_data: str = "unknown"  # one of LEVELS
    training_code: str = "unknown"  # one of LEVELS
    name_zh: str = ""
    notes: str = ""
    notes_zh: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    id: str
    name: str
    kind: str  # "local" or "openai-compat"
    base_url: str = ""
    base_urls: tuple[str, ...] = ()  # several servers of the same models: round robin (playground.endpoints)
    key_env: str = ""
    key_optional: bool = False
    price_provider: str = ""
    hosting: str = "Runs on this machine: prompts never leave it."
    prompts_go: str = ""  # one of DESTINATIONS; empty: this-machine for kind "local", else vendor
    data_use_url: str = ""  # the vendor's page on what it does with prompts
    name_zh: str = ""
    hosting_zh: str = ""

    @property
    def destination(self) -> str:
        return self.prompts_go or ("this-machine" if self.kind == "local" else "vendor")

    @property
    def display_name(self) -> str:
        return self.name_zh if self.name_zh and is_chinese() else self.name

    @property
    def display_hosting(self) -> str:
        return self.hosting_zh if self.hosting_zh and is_chinese() else self.hosting


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    tasks: tuple[str, ...]
    openness: str
    license: str
    provider: str
    backend: str
    source: str = ""
    params: str = ""
    price_ref: str = ""
    context: int | None = None
    labels: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # a pipeline's models, by catalog id, in the order they run
    runtime: str = "transformers"  # local models only: "transformers", "onnxruntime-genai" or "openvino"
    precision: str = ""  # the weights as they run, e.g. "fp32" or "int4"; "" when unknown (API models)
    tokenizer: str = ""  # API models whose tokenizer is public: "tiktoken:<encoding>" or "hub:<org/name>"
    impacts_ref: str = ""  # "<provider>:<model>" as EcoLogits names it, for an API model's energy estimate
    languages: tuple[str, ...] = ()  # what it was trained to read and write (ISO codes); () when not stated
    facts: OpennessFacts = OpennessFacts()

    @property
    def is_local(self) -> bool:
        return self.backend in LOCAL_BACKENDS

    @property
    def display_name(self) -> str:
        """The name in the current language: ``name_zh`` in Chinese when the catalog gives one."""
        return self.facts.name_zh if self.facts.name_zh and is_chinese() else self.name

    def reads(self, language: str) -> bool:
        """False only when the catalog says which languages it knows, and this is not one of them."""
        return not self.languages or language in self.languages

    @property
    def label(self) -> str:
        """Name with its openness, as the pickers show it."""
        openness = _("open") if self.openness == "open" else _("closed")
        return f"{self.display_name} · {openness}"


@dataclass(frozen=True)
class Catalog:
    models: dict[str, ModelSpec]
    providers: dict[str, ProviderSpec] = field(default_factory=dict)
    licenses: dict[str, LicenseSpec] = field(default_factory=dict)

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self.models[model_id]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise CatalogError(
                _("Unknown model '{model}'. The catalog has: {known}.").format(model=model_id, known=known),
                _("Check the model id in playground/catalog.toml."),
            ) from None

    def name_of(self, model_id: str) -> str:
        """A model's display name; its id when the catalog no longer has it (history and votes outlive a model)."""
        return self.models[model_id].display_name if model_id in self.models else model_id

    def provider_of(self, model: ModelSpec) -> ProviderSpec:
        return self.providers[model.provider]

    def for_task(self, task: str) -> list[ModelSpec]:
        return [m for m in self.models.values() if task in m.tasks]

    def license_of(self, license_id: str) -> LicenseSpec:
        """The licence entry, or one that knows nothing but the name ("unknown" commercial use, no link)."""
        return self.licenses.get(license_id) or LicenseSpec(id=license_id)


PROVIDER_KINDS = ("local", "openai-compat")
_TYPES = {"str": str, "bool": bool, "int | None": int, "tuple[str, ...]": list}  # TOML value type per annotation


def _check_types(kind: str, entry_id: str, raw: dict, spec_class: type) -> None:
    """Name the field whose TOML value has the wrong type (e.g. ``tasks = "generate"`` instead of a list)."""
    for spec_field in fields(spec_class):
        expected = _TYPES.get(str(spec_field.type))
        value = raw.get(spec_field.name)
        if value is None or expected is None:
            continue
        wrong = not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        if expected is list and not wrong:
            wrong = not all(isinstance(item, str) for item in value)
        if wrong:
            shown = 'a list of strings, e.g. ["generate"]' if expected is list else f"a {expected.__name__}"
            raise CatalogError(f"{kind} '{entry_id}': '{spec_field.name}' must be {shown}, not {value!r}.")


def _parse_provider(pid: str, raw: dict) -> ProviderSpec:
    urls = raw.get("base_urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
        raise CatalogError(f"Provider '{pid}': base_urls must be a list of URLs, e.g. [\"http://a:8000/v1\"]")
    _check_types("Provider", pid, raw, ProviderSpec)
    try:
        spec = ProviderSpec(id=pid, **{**raw, "base_urls": tuple(raw.get("base_urls", ()))})
    except TypeError as exc:
        raise CatalogError(f"Provider '{pid}': {exc}") from None
    if spec.kind not in PROVIDER_KINDS:
        raise CatalogError(f"Provider '{pid}': kind '{spec.kind}' is not one of {', '.join(PROVIDER_KINDS)}.")
    _one_of(f"Provider '{pid}'", "prompts_go", spec.prompts_go, DESTINATIONS)
    return spec


def _parse_model(raw: dict, providers: dict[str, ProviderSpec]) -> ModelSpec:
    mid = raw.get("id", "<no id>")
    _check_types("Model", mid, raw, ModelSpec)
    try:
        spec = ModelSpec(
            **{**raw, **{name: tuple(raw.get(name, ())) for name in ("tasks", "labels", "stages", "languages")}}
        )
    except TypeError as exc:
        raise CatalogError(f"Model '{mid}': {exc}") from None
    problems = []
    if spec.provider not in providers:
        problems.append(f"provider '{spec.provider}' is not declared under [providers]")
    if spec.backend not in BACKENDS:
        problems.append(f"backend '{spec.backend}' is not one of {', '.join(BACKENDS)}")
    if not spec.tasks:
        problems.append(f"tasks is empty: give at least one of {', '.join(TASKS)}")
    if bad := [t for t in spec.tasks if t not in TASKS]:
        problems.append(f"unknown task(s) {bad}")
    if spec.runtime not in RUNTIMES:
        problems.append(f"runtime '{spec.runtime}' is not one of {', '.join(RUNTIMES)}")
    if bad := [code for code in spec.languages if not LANGUAGE_CODE.fullmatch(code)]:
        problems.append(f'languages {bad} are not ISO 639 codes such as "en" or "zh"')
    if spec.openness not in ("open", "closed"):
        problems.append("openness must be 'open' or 'closed'")
    if spec.tokenizer and not spec.tokenizer.startswith(("tiktoken:", "hub:")):
        problems.append(f"tokenizer '{spec.tokenizer}' must start with tiktoken: or hub:")
    if spec.impacts_ref and ":" not in spec.impacts_ref:
        problems.append(f"impacts_ref '{spec.impacts_ref}' must be '<provider>:<model>', e.g. 'openai:gpt-4o'")
    if problems:
        raise CatalogError(f"Model '{mid}': " + "; ".join(problems))
    return spec


def _one_of(where: str, name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value and value not in allowed:
        raise CatalogError(f"{where}: {name} '{value}' is not one of {', '.join(allowed)}")


def _parse_license(lid: str, raw: dict) -> LicenseSpec:
    try:
        spec = LicenseSpec(id=lid, **raw)
    except TypeError as exc:
        raise CatalogError(f"Licence '{lid}': {exc}") from None
    _one_of(f"Licence '{lid}'", "commercial", spec.commercial, COMMERCIAL)
    return spec


def _parse_facts(mid: str, raw: dict, models: dict[str, ModelSpec]) -> OpennessFacts:
    where = f"Openness facts for '{mid}'"
    if mid not in models:
        raise CatalogError(f"{where}: no model has this id")
    try:
        facts = OpennessFacts(**raw)
    except TypeError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    _one_of(where, "training_data", facts.training_data, LEVELS)
    _one_of(where, "training_code", facts.training_code, LEVELS)
    _one_of(where, "weights_dtype", facts.weights_dtype, DTYPES)
    return facts


def _read(path: Path) -> dict:
    """One catalog file as TOML; every way it can be unreadable is a CatalogError naming the file (and line)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CatalogError(f"Catalog file {path} does not exist.", "Check the path (PLAYGROUND_CATALOG).") from None
    except OSError as exc:
        raise CatalogError(f"Catalog file {path} cannot be read: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"Catalog file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}).",
            "Save it as UTF-8.",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends with "(at line N, column M)"
        raise CatalogError(f"Catalog file {path} is not valid TOML: {exc}.") from None


def load_catalog(*paths: Path) -> Catalog:
    """Read the bundled catalog, then any extra files.

    A model id or provider id already declared (in an earlier file or the same one) is an error, unless the later
    entry says ``replace = true``: then it replaces the earlier one on purpose. Every error names the file.
    """
    providers: dict[str, ProviderSpec] = {}
    models: dict[str, ModelSpec] = {}
    licenses: dict[str, LicenseSpec] = {}
    facts: dict[str, OpennessFacts] = {}
    for path in (CATALOG_PATH, *paths):
        path = Path(path)
        data = _read(path)
        try:
            for pid, raw in _tables(data, "providers").items():
                replace = _replace_flag("Provider", pid, raw)
                if pid in providers and not replace:
                    raise CatalogError(_duplicate("Provider", pid))
                providers[pid] = _parse_provider(pid, raw)
            seen: set[str] = set()
            for raw in _entries(data, "models"):
                replace = _replace_flag("Model", raw.get("id", "<no id>"), raw)
                spec = _parse_model(raw, providers)
                if spec.id in seen or (spec.id in models and not replace):
                    raise CatalogError(_duplicate("Model", spec.id))
                seen.add(spec.id)
                models[spec.id] = spec
            licenses |= {lid: _parse_license(lid, raw) for lid, raw in _tables(data, "licenses").items()}
            facts |= {mid: _parse_facts(mid, raw, models) for mid, raw in _tables(data, "openness").items()}
        except CatalogError as exc:
            raise CatalogError(f"{path}: {exc.message}", exc.hint) from None
    models = {mid: with_fields(spec, facts=facts[mid]) if mid in facts else spec for mid, spec in models.items()}
    return Catalog(models=models, providers=providers, licenses=licenses)


def _tables(data: dict, section: str) -> dict[str, dict]:
    """``[section.<id>]`` tables: anything else under ``section`` is named, with the form it should take."""
    tables = data.get(section, {})
    if not isinstance(tables, dict):
        raise CatalogError(f"'{section}' must hold tables such as [{section}.<id>], not {tables!r}.")
    for entry_id, entry in tables.items():
        if not isinstance(entry, dict):
            raise CatalogError(
                f"[{section}] entry '{entry_id}' must be a table of fields ([{section}.{entry_id}]), not {entry!r}."
            )
    return tables


def _entries(data: dict, section: str) -> list[dict]:
    """``[[section]]`` entries: a single ``[section]`` table (one bracket pair too few) is named as such."""
    entries = data.get(section, [])
    if isinstance(entries, dict):
        raise CatalogError(f"[{section}] is a single table: declare each entry as [[{section}]] (double brackets).")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise CatalogError(f"'{section}' must be a list of [[{section}]] tables, not {entries!r}.")
    return entries


def _replace_flag(kind: str, entry_id: str, raw: dict) -> bool:
    replace = raw.pop("replace", False)
    if not isinstance(replace, bool):
        raise CatalogError(f"{kind} '{entry_id}': 'replace' must be true or false, not {replace!r}.")
    return replace


def _duplicate(kind: str, entry_id: str) -> str:
    return f"{kind} '{entry_id}' is declared twice. Use another id, or add replace = true to the later entry."
