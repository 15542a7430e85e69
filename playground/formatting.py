"""Numbers, money, durations, sizes and dates written the way the current language writes them (Babel/CLDR).

Every card, chart and table formats through here, so "1,234.5" / "1,234.5", "$0.00042" (one sign in both languages,
as on the charts and in the hardware rates: CLDR's Chinese "US$" read as a second currency beside them),
"2.5 s" / "2.5 秒", "135M" / "1.35亿" follow the language chosen in the sidebar.
"""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.lists import format_list
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent

from playground.i18n import _, current_language


def babel_locale() -> Locale:
    return Locale.parse("zh_Hans_CN" if current_language() == "zh_CN" else "en_US")


def format_number(value: float, digits: int = 2) -> str:
    """At most ``digits`` decimals, trailing zeros dropped, grouped by thousands."""
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=babel_locale())


def format_count(value: int) -> str:
    return format_decimal(value, format="#,##0", locale=babel_locale())


def format_percent_value(fraction: float, digits: int = 0) -> str:
    pattern = "#,##0." + "#" * digits + "%" if digits else "#,##0%"
    return format_percent(fraction, format=pattern, locale=babel_locale())


def format_usd(usd: float) -> str:
    """Dollars with enough digits that a fraction of a cent still shows: $1,234.50, $0.000075, $0."""
    if usd == 0:
        pattern = "¤0"
    elif abs(usd) >= 1:
        pattern = "¤#,##0.00"
    else:
        pattern = "¤0.00####"
    return format_currency(usd, "USD", format=pattern, locale=babel_locale(), currency_digits=False).replace("US$", "$")


def format_names(names: list[str]) -> str:
    """A list of names as the language writes one: "A, B, and C" / "A、B和C"."""
    return format_list(names, style="standard", locale=babel_locale()) if names else ""


def format_seconds(seconds: float, digits: int = 2) -> str:
    return _("{value} s").format(value=format_number(seconds, digits))


def format_tokens_per_s(rate: float) -> str:
    return _("{value} tok/s").format(value=format_number(rate, 1))


def format_large(value: float) -> str:
    """A large count written short: 135M / 1.35亿, 7B / 70亿, 22M / 2200万."""
    return format_compact_decimal(value, fraction_digits=2, locale=babel_locale())


def format_bytes(size: float) -> str:
    """Bytes in decimal units (as disks and model cards count them): 538 MB, 1.4 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{format_number(size / scale, 1)} {unit}"
    return f"{format_count(int(size))} B"


def format_day(day: date) -> str:
    return _babel_date(day, format="medium", locale=babel_locale())


def format_timestamp(ts: float) -> str:
    """A Unix time as a local date and time (the server's time zone, as the history shows it)."""
    moment = datetime.fromtimestamp(ts).astimezone()
    return _babel_datetime(moment, format="medium", locale=babel_locale())
