"""Can a model run right now, and if not, what exactly would fix it? One answer for the home table and pickers."""

from __future__ import annotations

from dataclasses import dataclass

import playground.models_cache as models_cache
from playground.catalog import Catalog, ModelSpec
from playground.credentials import resolve_access
from playground.errors import InputError, MissingKeyError
from playground.events import Credentials
from playground.i18n import _

READY, DOWNLOADS, MISSING = "ready", "downloads", "missing"


@dataclass(frozen=True)
class Availability:
    """``state`` is the value code branches on (READY, DOWNLOADS, MISSING); ``status`` is its text for people,
    translated, so it never goes into a comparison."""

    ready: bool
    state: str
    status: str  # "ready", "downloads on first use", or what is missing and how to add it (translated)


def availability(catalog: Catalog, spec: ModelSpec, credentials: Credentials) -> Availability:
    if spec.is_local:
        source = models_cache.resolve_runtime(spec)
        if source.needs_download:
            return Availability(True, DOWNLOADS, _("downloads on first use"))
        if source.ready:
            return Availability(True, READY, _("ready"))
        return Availability(False, MISSING, source.missing_hint)
    try:
        resolve_access(spec, catalog.provider_of(spec), credentials)  # asks no endpoint pool: a redraw moves nothing
    except MissingKeyError as exc:
        return Availability(False, MISSING, exc.status)
    except InputError as exc:  # a typed base URL that cannot be an address
        return Availability(False, MISSING, exc.message)
    return Availability(True, READY, _("ready"))
