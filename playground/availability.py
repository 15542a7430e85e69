"""Can a model run right now, and if not, what exactly would fix it? One answer for the home table and pickers."""

from __future__ import annotations

from dataclasses import dataclass

import playground.models_cache as models_cache
from playground.backends.openai_compat import MissingKey, resolve_endpoint
from playground.catalog import Catalog, ModelSpec
from playground.events import Credentials
from playground.i18n import _


@dataclass(frozen=True)
class Availability:
    ready: bool
    status: str  # "ready", "downloads on first use", or what is missing and how to add it (translated)


def availability(catalog: Catalog, spec: ModelSpec, credentials: Credentials) -> Availability:
    if spec.is_local:
        source = models_cache.resolve_runtime(spec)
        if source.needs_download:
            return Availability(True, _("downloads on first use"))
        return Availability(source.ready, _("ready") if source.ready else source.missing_hint)
    try:
        resolve_endpoint(spec, catalog.provider_of(spec), credentials)
    except MissingKey as exc:
        return Availability(False, exc.status)
    return Availability(True, _("ready"))
