"""Local text classifiers: embedding zero-shot (MiniLM), an LLM scoring each label (SmolLM2), fine-tuned
sequence classifiers with their own label sets, and NLI zero-shot.

Each classifies a list of texts in one forward pass, so batch evaluation (a ``BatchRequest``) is fast. Single
texts from many sessions are micro-batched (playground.serving.micro_batch): gathered for a few milliseconds and
scored in one pass. Every text ends in its own ``Result`` with the label and the probability of every label.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import playground.hardware as hardware
from playground.backends.local_generate import CausalLMBackend
from playground.backends.local_pool import Loaded, LocalBackend
from playground.catalog import ModelSpec
from playground.classify import (
    BatchRequest,
    InputError,
    check_labels,
    check_text,
    hypothesis_template,
    same_labels,
)
from playground.events import Event, Failure, Notice, Request, Result
from playground.i18n import _
from playground.metrics import CallMetrics, Stopwatch
from playground.serving import limits
from playground.serving.micro_batch import MicroBatcher

MAX_INPUT_TOKENS = 512  # a classifier reads at most this much of a text: enough to decide, and fast on a CPU
SIMILARITY_TEMPERATURE = 0.05  # cosine similarities sit close together; a low temperature spreads them apart


@dataclass
class Scored:
    scores: dict[str, float]  # label -> probability
    tokens: int  # tokens the model read for this text
    cut: tuple[int, int] | None = None  # (tokens before, tokens kept) when the text was truncated
    own_labels: tuple[str, ...] = ()  # a fine-tuned model's fixed labels, when they are not the requested ones


class LocalClassifier(LocalBackend):
    """Checks the input before any model loads, times the batch, and turns scores into one Result per text."""

    batch_size = 32  # texts per forward pass in batch evaluation

    def classify(self, parts, spec: ModelSpec, texts: list[str], labels: tuple[str, ...]) -> list[Scored]:
        raise NotImplementedError

    def execute(self, spec: ModelSpec, request: Request, credentials) -> Iterator[Event]:
        try:
            for text in request.texts if isinstance(request, BatchRequest) else (request.prompt,):
                check_text(text)
            check_labels(request.labels)
        except InputError as exc:
            yield Failure.of(spec.id, exc)
            return
        yield from super().execute(spec, request, credentials)

    def slots(self) -> int:
        return limits.max_batch()

    def serve(self, loaded: Loaded, spec: ModelSpec, request: Request) -> Iterator[Event]:
        if isinstance(request, BatchRequest):  # already a batch: one pass of its own
            yield from super().serve(loaded, spec, request)
            return

        def classify_locked(texts: list[str], labels: tuple[str, ...]) -> list[Scored]:
            with loaded.lock:
                return self.classify(loaded.parts, spec, texts, labels)

        batcher = loaded.service(
            f"micro-batch:{type(self).__name__}", lambda: MicroBatcher(classify_locked, limits.max_batch())
        )
        job = batcher.classify(request.prompt.strip(), check_labels(request.labels))
        if job.error is not None:  # e.g. a checkpoint whose head does not match the catalog's labels
            yield Failure(spec.id, f"{spec.name} could not classify: {job.error}")
            return
        elapsed = job.finished - request.arrived  # from arrival, through the wait for the shared pass
        metrics = CallMetrics(ttft_s=elapsed, total_s=elapsed, queue_s=max(0.0, job.started - request.arrived))
        yield from self._results(spec, [job.result], [metrics], single=True)

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        single = not isinstance(request, BatchRequest)
        texts = [request.prompt.strip()] if single else [text.strip() for text in request.texts]
        watch = Stopwatch(request.arrived if single else None)  # a batch's per-text time is compute only
        try:
            scored = self.classify(parts, spec, texts, check_labels(request.labels))
        except Exception as exc:  # e.g. a checkpoint whose head does not match the catalog's labels
            yield Failure(spec.id, _("{name} could not classify: {error}").format(name=spec.display_name, error=exc))
            return
        per_text = watch.metrics().total_s / len(texts)
        yield from self._results(spec, scored, [CallMetrics(ttft_s=per_text, total_s=per_text)] * len(scored), single)

    def _results(
        self, spec: ModelSpec, scored: list[Scored], metrics: list[CallMetrics], single: bool
    ) -> Iterator[Event]:
        for item, timing in zip(scored, metrics):
            if single and item.cut:
                yield Notice(
                    spec.id,
                    _("The text was truncated from {before} to {after} tokens, the most {name} reads here.").format(
                        before=item.cut[0], after=item.cut[1], name=spec.display_name
                    ),
                )
            if single and item.own_labels:
                yield Notice(
                    spec.id,
                    _("{name} is fine-tuned on its own labels ({labels}), not yours.").format(
                        name=spec.display_name, labels=", ".join(item.own_labels)
                    ),
                )
            label = max(item.scores, key=item.scores.get)
            yield Result(
                spec.id,
                text=label,
                label=label,
                scores=item.scores,
                metrics=CallMetrics(
                    ttft_s=timing.ttft_s,
                    total_s=timing.total_s,
                    queue_s=timing.queue_s,
                    input_tokens=item.tokens,
                    output_tokens=0,
                ),
                extra={"truncated_from": item.cut[0] if item.cut else None, "own_labels": item.own_labels},
            )


def _input_limit(spec: ModelSpec, tokenizer, config) -> int:
    """The most tokens the model can read: a tokenizer may allow more than the position embeddings hold."""
    positions = getattr(config, "max_position_embeddings", None) or MAX_INPUT_TOKENS
    return min(spec.context or MAX_INPUT_TOKENS, tokenizer.model_max_length, positions, MAX_INPUT_TOKENS)


def _encode(tokenizer, texts: list[str], limit: int):
    """A padded batch cut to ``limit`` tokens, and for each text (tokens before, kept) if it was cut, else None."""
    batch = tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt")
    if batch.encodings is None:  # a slow tokenizer keeps no record of what it cut
        suspects = range(len(texts))
    else:
        suspects = [i for i, encoding in enumerate(batch.encodings) if encoding.overflowing]
    cuts = [None] * len(texts)
    for i in suspects:  # only a text that was cut is tokenised again, to say how long it was
        if (n := len(tokenizer(texts[i], verbose=False)["input_ids"])) > limit:
            cuts[i] = (n, limit)
    return batch, cuts


def _distributions(values, labels) -> list[dict[str, float]]:
    """Softmax of each row of a (texts x labels) matrix, as label -> probability."""
    import torch

    probs = torch.softmax(torch.as_tensor(values, dtype=torch.float32), dim=-1)
    return [dict(zip(labels, row)) for row in probs.tolist()]


class EmbeddingZeroShot(LocalClassifier):
    """Cosine similarity between the text and each label phrased as a sentence, in one sentence-embedding space."""

    def load(self, location: str):
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(location)
        model.to(hardware.detect().device).eval()
        return AutoTokenizer.from_pretrained(location), model

    @staticmethod
    def embed(model, batch):
        """Mean of the token vectors (padding left out), L2-normalised: how all-MiniLM-L6-v2 was trained."""
        import torch

        batch = batch.to(model.device)
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)

    def classify(self, parts, spec, texts, labels):
        tokenizer, model = parts
        limit = _input_limit(spec, tokenizer, model.config)
        batch, cuts = _encode(tokenizer, texts, limit)
        hypotheses, _lengths = _encode(
            tokenizer, [hypothesis_template(labels).format(label) for label in labels], limit
        )
        similarity = self.embed(model, batch) @ self.embed(model, hypotheses).T
        tokens = batch["attention_mask"].sum(1).tolist()
        probabilities = _distributions(similarity / SIMILARITY_TEMPERATURE, labels)
        return [Scored(p, n, cut) for p, n, cut in zip(probabilities, tokens, cuts)]


class LabelLogprobScorer(LocalClassifier):
    """A causal LM as a classifier: how likely is each label as the next word after the text and a lead-in such as
    "This text expresses a"? A softmax over the labels' log-probabilities gives their probabilities.

    Small models prefer some labels whatever the text, so each label's log-probability after a content-free text
    ("N/A") is subtracted first (contextual calibration, Zhao et al. 2021). On this project's sample sets that
    takes SmolLM2-135M from 18/20 to 19/20 on sentiment and from 11/20 to 19/20 on topics.
    """

    batch_size = 8
    content_free = "N/A"

    def load(self, location: str):
        # the pool keeps one copy per model, shared with generation, so both must load the same (tokenizer, model)
        return CausalLMBackend().load(location)

    def classify(self, parts, spec, texts, labels):
        tokenizer, model = parts
        lead_in = hypothesis_template(labels).split("{}")[0].rstrip()
        label_ids = [tokenizer(" " + label, add_special_tokens=False)["input_ids"] for label in labels]
        limit = min(MAX_INPUT_TOKENS, (spec.context or 2048) // 2)
        contexts, scored = [], []
        for text in [*texts, self.content_free]:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            cut = (len(ids), limit) if len(ids) > limit else None
            contexts.append(
                tokenizer(f"{tokenizer.decode(ids[:limit]) if cut else text}\n{lead_in}", add_special_tokens=False)[
                    "input_ids"
                ]
            )
            scored.append(Scored({}, len(contexts[-1]) + sum(map(len, label_ids)), cut))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        logprobs = _label_logprobs(model, pad, contexts, label_ids)
        calibrated = [[lp - prior for lp, prior in zip(row, logprobs[-1])] for row in logprobs[:-1]]
        for item, probabilities in zip(scored, _distributions(calibrated, labels)):
            item.scores = probabilities
        return scored[:-1]


CACHE_SLOTS = 8192  # (contexts x labels x tokens) held in the KV cache at once: about 0.4 GB for SmolLM2-135M


def _label_logprobs(model, pad: int, contexts: list[list[int]], label_ids: list[list[int]]) -> list[list[float]]:
    """log P(label | context) for every context and label. Each context is read once; its KV cache is then
    copied per label, so the labels' tokens are all that is computed again."""
    width = max(map(len, contexts))
    group = max(1, CACHE_SLOTS // (width * len(label_ids)))
    out = []
    for start in range(0, len(contexts), group):
        out += _label_logprobs_group(model, pad, contexts[start : start + group], label_ids)
    return out


def _label_logprobs_group(model, pad, contexts, label_ids) -> list[list[float]]:
    import torch

    n, width, longest = len(label_ids), max(map(len, contexts)), max(map(len, label_ids))
    device = model.device
    ids = torch.tensor([[pad] * (width - len(c)) + c for c in contexts], device=device)
    mask = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding must not shift the real tokens' positions
    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
        totals = torch.log_softmax(out.logits[:, -1].float(), dim=-1)[:, [t[0] for t in label_ids]]  # first tokens
        if longest > 1:  # the rest of each label, after a copy of its context's cache
            cache = out.past_key_values
            cache.batch_repeat_interleave(n)
            tail = torch.tensor([t + [pad] * (longest - len(t)) for t in label_ids], device=device).repeat(
                len(contexts), 1
            )
            tail_mask = torch.tensor(
                [[1] * len(t) + [0] * (longest - len(t)) for t in label_ids], device=device
            ).repeat(len(contexts), 1)
            logits = model(
                input_ids=tail,
                attention_mask=torch.cat([mask.repeat_interleave(n, 0), tail_mask], dim=1),
                position_ids=positions[:, -1:].repeat_interleave(n, 0) + 1 + torch.arange(longest, device=device),
                past_key_values=cache,
            ).logits
            following = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, tail[:, 1:, None]).squeeze(-1)
            totals = totals + (following * tail_mask[:, 1:]).sum(-1).view(len(contexts), n)
    return totals.tolist()


def fixed_labels(spec: ModelSpec, config) -> tuple[str, ...]:
    """A fine-tuned model's labels in output order: the catalog's list (some checkpoints only say LABEL_0...),
    else the checkpoint's own names."""
    if spec.labels:
        if len(spec.labels) != config.num_labels:
            raise ValueError(
                f"the catalog lists {len(spec.labels)} labels but the model has {config.num_labels} outputs"
            )
        return spec.labels
    return tuple(config.id2label[i] for i in range(config.num_labels))


def _in_requested_spelling(own: tuple[str, ...], labels: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names to report, own labels when they differ from the request). POSITIVE becomes positive when asked so."""
    if not same_labels(own, labels):
        return own, own
    spelling = {label.casefold(): label for label in labels}
    return tuple(spelling[label.casefold()] for label in own), ()


class SequenceClassifier(LocalClassifier):
    """A model fine-tuned for one fixed label set, such as AG-News topics or SST-2 sentiment."""

    def load(self, location: str):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(location)
        model.to(hardware.detect().device).eval()
        return AutoTokenizer.from_pretrained(location), model

    def classify(self, parts, spec, texts, labels):
        import torch

        tokenizer, model = parts
        names, differs = _in_requested_spelling(fixed_labels(spec, model.config), labels)
        batch, cuts = _encode(tokenizer, texts, _input_limit(spec, tokenizer, model.config))
        with torch.inference_mode():
            logits = model(**batch.to(model.device)).logits
        tokens = batch["attention_mask"].sum(1).tolist()
        return [Scored(p, n, cut, differs) for p, n, cut in zip(_distributions(logits, names), tokens, cuts)]


class NLIZeroShot(LocalClassifier):
    """An NLI model asked, for each label, whether the text entails "This text is about <label>."

    Through the zero-shot-classification pipeline, which softmaxes the entailment scores across the labels.
    """

    batch_size = 16

    def load(self, location: str):
        from transformers import pipeline

        classifier = pipeline("zero-shot-classification", model=location, device=hardware.detect().device)
        # the pipeline cuts the text to the tokenizer's limit; some checkpoints set none (a huge number)
        positions = getattr(classifier.model.config, "max_position_embeddings", None) or MAX_INPUT_TOKENS
        classifier.tokenizer.model_max_length = min(classifier.tokenizer.model_max_length, positions, MAX_INPUT_TOKENS)
        return classifier

    def classify(self, classifier, spec, texts, labels):
        template = hypothesis_template(labels)
        hypotheses = [template.format(label) for label in labels]
        limit = classifier.tokenizer.model_max_length
        outputs = classifier(
            texts,
            candidate_labels=list(labels),
            hypothesis_template=template,
            batch_size=min(64, len(texts) * len(labels)),
        )
        scored = []
        for text, output in zip(texts, outputs):
            pairs = [
                len(ids) for ids in classifier.tokenizer([text] * len(labels), hypotheses, verbose=False)["input_ids"]
            ]
            cut = (max(pairs), limit) if max(pairs) > limit else None
            scores = dict(zip(output["labels"], output["scores"]))
            scored.append(Scored({label: scores[label] for label in labels}, sum(min(n, limit) for n in pairs), cut))
        return scored
