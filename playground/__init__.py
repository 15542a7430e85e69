"""The playground engine: catalog, backends, runner, session, metrics, pricing, store. No Streamlit in here.

Pages, benchmarks, notebooks and tests use what this module exports; none of them imports a backend module::

    from playground import Playground, Request, RunContext, load_catalog
"""

from playground.availability import availability
from playground.events import (
    DEFAULT_CAPTION_INSTRUCTION,
    Credentials,
    Endpoint,
    Event,
    Failure,
    GenParams,
    Notice,
    Request,
    Result,
    Token,
    Waiting,
)
from playground.caption_batch import caption_samples, latency_rows
from playground.catalog import Catalog, ModelSpec, ProviderSpec, load_catalog
from playground.classify import (
    PRESETS,
    LabelledSet,
    check_labels,
    check_text,
    load_sample,
    parse_labels,
    read_labelled_csv,
)
from playground.context import RunContext
from playground.conversations import Asking, Conversation
from playground.errors import (
    CatalogError,
    ImageError,
    InputError,
    MissingKeyError,
    PlaygroundError,
    ProviderError,
)
from playground.evaluation import ModelEvaluation, prediction_rows
from playground.images import SAMPLE_PHOTOS, fit_within, open_image, sample_photo
from playground.metrics import CallMetrics
from playground.pricing import Cost, format_usd
from playground.session import Playground, RunSettings

__all__ = [
    "Asking",
    "DEFAULT_CAPTION_INSTRUCTION",
    "PRESETS",
    "SAMPLE_PHOTOS",
    "CallMetrics",
    "Catalog",
    "CatalogError",
    "Conversation",
    "Cost",
    "Credentials",
    "Endpoint",
    "Event",
    "Failure",
    "GenParams",
    "ImageError",
    "InputError",
    "LabelledSet",
    "MissingKeyError",
    "ModelEvaluation",
    "ModelSpec",
    "Notice",
    "Playground",
    "PlaygroundError",
    "ProviderError",
    "ProviderSpec",
    "Request",
    "Result",
    "RunContext",
    "RunSettings",
    "Token",
    "Waiting",
    "availability",
    "caption_samples",
    "check_labels",
    "check_text",
    "fit_within",
    "format_usd",
    "latency_rows",
    "load_catalog",
    "load_sample",
    "open_image",
    "parse_labels",
    "prediction_rows",
    "read_labelled_csv",
    "sample_photo",
]
