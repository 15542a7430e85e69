"""Which backend runs a (backend kind, task) pair. Instances are shared: backends hold no per-user state."""

from __future__ import annotations

from functools import cache

from playground.backends.base import Backend
from playground.catalog import Catalog, ModelSpec


@cache
def _local(kind: str, task: str) -> Backend | None:
    from playground.backends import image_classifier, local_caption, local_classify, local_generate, ocr

    table = {
        ("causal-lm", "generate"): local_generate.CausalLMBackend,
        ("seq2seq", "generate"): local_generate.Seq2SeqBackend,
        ("causal-lm", "classify"): local_classify.LabelLogprobScorer,
        ("embedding-zero-shot", "classify"): local_classify.EmbeddingZeroShot,
        ("sequence-classifier", "classify"): local_classify.SequenceClassifier,
        ("nli-zero-shot", "classify"): local_classify.NLIZeroShot,
        ("image-captioner", "caption"): local_caption.ImageCaptionerBackend,
        ("vision-language", "caption"): local_caption.VisionLanguageBackend,
        ("image-classifier", "caption"): image_classifier.ImageNetClassifier,
        ("ocr", "caption"): ocr.RapidOCRBackend,
    }
    factory = table.get((kind, task))
    return factory() if factory else None


@cache
def _api(task: str) -> type:
    from playground.backends import api_classify, openai_compat, openai_vision

    return {
        "generate": openai_compat.OpenAIChatBackend,
        "classify": api_classify.APIClassifier,
        "caption": openai_vision.OpenAIVisionBackend,
    }[task]


def backend_for(catalog: Catalog, spec: ModelSpec, task: str) -> Backend | None:
    """The backend for this model and task, or None when the model cannot do the task."""
    if task not in spec.tasks:
        return None
    if spec.backend == "openai-compat":
        return _api(task)(catalog.providers)  # built per call: it holds the catalog's providers, which may vary
    if spec.backend == "image-pipeline":
        from playground.backends.image_pipeline import ImagePipelineBackend

        return ImagePipelineBackend(catalog, backend_for)  # built per call: it looks its stages up in this catalog
    if spec.runtime == "onnxruntime-genai":
        return _onnx(task)
    if spec.runtime == "openvino":
        return _openvino(task)
    return _local(spec.backend, task)


@cache
def _openvino(task: str) -> Backend | None:
    from playground.backends import openvino_genai

    return openvino_genai.OpenVINOBackend() if task == "generate" else None


@cache
def _onnx(task: str) -> Backend | None:
    from playground.backends import ort_genai

    return ort_genai.OrtGenAIBackend() if task == "generate" else None
