"""Typed view of catalog.toml, the one place models and providers are declared."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

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
BACKENDS = LOCAL_BACKENDS + ("openai-compat",)
RUNTIMES = ("transformers", "onnxruntime-genai")  # what runs a local model's weights


from playground.errors import CatalogError  # noqa: E402  (re-exported: the catalog's own error)


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
    runtime: str = "transformers"  # local models only: "transformers" or "onnxruntime-genai"
    precision: str = ""  # the weights as they run, e.g. "fp32" or "int4"; "" when unknown (API models)

    @property
    def is_local(self) -> bool:
        return self.backend in LOCAL_BACKENDS

    @property
    def label(self) -> str:
        """Name with its openness, as the pickers show it."""
        return f"{self.name} · {self.openness}"


@dataclass(frozen=True)
class Catalog:
    models: dict[str, ModelSpec]
    providers: dict[str, ProviderSpec] = field(default_factory=dict)

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self.models[model_id]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise CatalogError(f"Unknown model '{model_id}'. The catalog has: {known}.") from None

    def provider_of(self, model: ModelSpec) -> ProviderSpec:
        return self.providers[model.provider]

    def for_task(self, task: str) -> list[ModelSpec]:
        return [m for m in self.models.values() if task in m.tasks]


def _parse_provider(pid: str, raw: dict) -> ProviderSpec:
    urls = raw.get("base_urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
        raise CatalogError(f"Provider '{pid}': base_urls must be a list of URLs, e.g. [\"http://a:8000/v1\"]")
    try:
        return ProviderSpec(id=pid, **{**raw, "base_urls": tuple(raw.get("base_urls", ()))})
    except TypeError as exc:
        raise CatalogError(f"Provider '{pid}': {exc}") from None


def _parse_model(raw: dict, providers: dict[str, ProviderSpec]) -> ModelSpec:
    mid = raw.get("id", "<no id>")
    try:
        spec = ModelSpec(**{**raw, **{name: tuple(raw.get(name, ())) for name in ("tasks", "labels", "stages")}})
    except TypeError as exc:
        raise CatalogError(f"Model '{mid}': {exc}") from None
    problems = []
    if spec.provider not in providers:
        problems.append(f"provider '{spec.provider}' is not declared under [providers]")
    if spec.backend not in BACKENDS:
        problems.append(f"backend '{spec.backend}' is not one of {', '.join(BACKENDS)}")
    if bad := [t for t in spec.tasks if t not in TASKS]:
        problems.append(f"unknown task(s) {bad}")
    if spec.runtime not in RUNTIMES:
        problems.append(f"runtime '{spec.runtime}' is not one of {', '.join(RUNTIMES)}")
    if spec.openness not in ("open", "closed"):
        problems.append("openness must be 'open' or 'closed'")
    if problems:
        raise CatalogError(f"Model '{mid}': " + "; ".join(problems))
    return spec


def load_catalog(*paths: Path) -> Catalog:
    """Read the bundled catalog, then any extra files (later entries with the same id replace earlier ones)."""
    providers: dict[str, ProviderSpec] = {}
    models: dict[str, ModelSpec] = {}
    for path in (CATALOG_PATH, *paths):
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        providers |= {pid: _parse_provider(pid, raw) for pid, raw in data.get("providers", {}).items()}
        for raw in data.get("models", []):
            spec = _parse_model(raw, providers)
            models[spec.id] = spec
    return Catalog(models=models, providers=providers)
