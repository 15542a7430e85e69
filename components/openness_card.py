"""The openness card of a model (built by playground.openness from the catalog), and the small pieces that open it."""

from __future__ import annotations

import streamlit as st

from playground.catalog import Catalog, ModelSpec
from playground.i18n import _
from playground.lessons import DIMENSIONS, title, try_it
from playground.openness import SPECTRUM, OpennessCard, build_card, spectrum_label

POSITION_COLOUR = {
    "closed-api": "orange",
    "open-weights-restricted": "violet",
    "open-weights-permissive": "blue",
    "open-weights-data-code": "green",
}
DESTINATION_ICON = {
    "this-machine": ":material/computer:",
    "your-server": ":material/dns:",
    "vendor": ":material/cloud_upload:",
}


def position_badge(position: str) -> str:
    return f":{POSITION_COLOUR.get(position, 'gray')}-badge[{spectrum_label(position)}]"


def spectrum_strip(position: str) -> str:
    """The four steps from closed to fully open, this model's step in colour and the others grey."""
    steps = [position_badge(step) if step == position else f":gray-badge[{spectrum_label(step)}]" for step in SPECTRUM]
    return " → ".join(steps)


def render_card(card: OpennessCard) -> None:
    st.markdown(f"**{card.name}** {position_badge(card.position)}")
    st.markdown(spectrum_strip(card.position))
    st.caption(card.position_explanation)
    lines = []
    link = _("link")
    for fact in card.facts:
        value = f"{fact.value} [{link}]({fact.url})" if fact.url else fact.value
        lines.append("- " + _("**{label}**: {value}").format(label=fact.label, value=value))
    st.markdown("\n".join(lines))
    if card.notes:
        st.caption(card.notes)


def card_popover(catalog: Catalog, spec: ModelSpec, key: str) -> None:
    """A button named after the model (with where its prompt goes as the icon) that opens its card."""
    icon = DESTINATION_ICON[catalog.provider_of(spec).destination]
    with st.popover(
        spec.display_name, icon=icon, help=_("Openness card: licence, weights, data, where your prompt goes"), key=key
    ):
        render_card(build_card(catalog, spec))


def prompt_routes(catalog: Catalog, model_ids: list[str], ready: dict[str, bool]) -> str:
    """One line per model: where its prompt goes, and whether a run would actually send it there now."""
    lines = []
    for model_id in model_ids:
        spec = catalog.get(model_id)
        provider = catalog.provider_of(spec)
        if provider.destination == "this-machine":
            where = _("stays on this machine")
        elif provider.destination == "your-server":
            where = (
                _("goes to your own server")
                if ready[model_id]
                else _("would go to your own server (none is set, so nothing is sent)")
            )
        elif ready[model_id]:
            where = _("leaves this machine for {vendor}").format(vendor=provider.display_name)
        else:
            where = _("would leave this machine for {vendor} (no key is set, so nothing is sent)").format(
                vendor=provider.display_name
            )
        lines.append(
            f"- {DESTINATION_ICON[provider.destination]} "
            + _("**{label}**: {value}").format(label=spec.display_name, value=where)
        )
    return "\n".join(lines)


def lesson_banner(catalog: Catalog, lesson: str, model_ids: list[str], status: dict) -> None:
    """Above a run opened from the Learn page: what the lesson shows, and for privacy, where each prompt will go."""
    if lesson not in DIMENSIONS:
        return
    text = _("**{title}.** {text}").format(title=title(lesson), text=try_it(lesson))
    if lesson == "privacy" and model_ids:
        ready = {m: status[m].ready for m in model_ids}
        text += "\n\n" + _("When you press Run, the prompt:") + "\n" + prompt_routes(catalog, model_ids, ready)
    st.info(text, icon=":material/school:")
