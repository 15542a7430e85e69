"""Times as the visitor reads a clock: the browser's time zone (``st.context.timezone``), or UTC said plainly."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from playground.i18n import _


def visitor_zone() -> str:
    """The browser's IANA time zone when it sent one and this machine knows it, else "UTC"."""
    zone = st.context.timezone or ""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return zone


def visitor_times(unix_seconds: pd.Series) -> pd.Series:
    """Unix times as wall-clock times in the visitor's zone (naive, so tables show them as they are)."""
    zone = visitor_zone()
    return pd.to_datetime(unix_seconds, unit="s", utc=True).dt.tz_convert(zone).dt.tz_localize(None)


def time_title() -> str:
    return _("time ({zone})").format(zone=visitor_zone())
