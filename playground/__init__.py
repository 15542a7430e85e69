"""The playground engine: catalog, backends, runner, session, metrics, pricing, store. No Streamlit in here.

Pages, benchmarks, notebooks and tests use what this module exports; none of them imports a backend module::

    from playground import Playground, Request, RunContext, load_catalog
"""

from playground.access import LockedOut, Lockout, RateLimiter, Scope, ServerSettings
from playground.availability import READY, Availability, availability
from playground.budget import Gate, OverBudget
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
from playground.energy import Energy
from playground.errors import (
    CatalogError,
    ImageError,
    InputError,
    MissingKeyError,
    PlaygroundError,
    ProviderError,
)
from playground.evaluation import ModelEvaluation, prediction_rows
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
from playground.images import SAMPLE_PHOTOS, fit_within, open_image, sample_photo
from playground.metrics import CallMetrics
from playground.pricing import Cost, format_usd
from playground.prompt_set_runs import PromptSetRun, live_run, start_prompt_set
from playground.prompt_sets import MAX_ROWS, PromptRow, PromptSet, built_in_sets, load_built_in, read_upload
from playground.public_url import PUBLIC_URL_SETTING, JoinAddress, join_root
from playground.session import Playground, RunSettings
from playground.tokens import Lens, look_all

__all__ = [
    "DEFAULT_CAPTION_INSTRUCTION",
    "MAX_ROWS",
    "PRESETS",
    "PUBLIC_URL_SETTING",
    "READY",
    "SAMPLE_PHOTOS",
    "Asking",
    "Availability",
    "CallMetrics",
    "Catalog",
    "CatalogError",
    "Conversation",
    "Cost",
    "Credentials",
    "Endpoint",
    "Energy",
    "Event",
    "Failure",
    "Gate",
    "GenParams",
    "ImageError",
    "InputError",
    "JoinAddress",
    "LabelledSet",
    "Lens",
    "LockedOut",
    "Lockout",
    "MissingKeyError",
    "ModelEvaluation",
    "ModelSpec",
    "Notice",
    "OverBudget",
    "Playground",
    "PlaygroundError",
    "PromptRow",
    "PromptSet",
    "PromptSetRun",
    "ProviderError",
    "ProviderSpec",
    "RateLimiter",
    "Request",
    "Result",
    "RunContext",
    "RunSettings",
    "Scope",
    "ServerSettings",
    "Token",
    "Waiting",
    "availability",
    "built_in_sets",
    "caption_samples",
    "check_labels",
    "check_text",
    "fit_within",
    "format_usd",
    "join_root",
    "latency_rows",
    "live_run",
    "load_built_in",
    "load_catalog",
    "load_sample",
    "look_all",
    "open_image",
    "parse_labels",
    "prediction_rows",
    "read_labelled_csv",
    "read_upload",
    "sample_photo",
    "start_prompt_set",
]
