"""Arena: two anonymous models answer the same prompt; vote, then see who they were."""

import streamlit as st

from components.arena_view import continue_battle, start_battle, vote_or_ask
from components.language import fixed_labels
from components.session import credentials, get_catalog, get_store
from playground import (
    DEFAULT_CAPTION_INSTRUCTION,
    READY,
    SAMPLE_PHOTOS,
    GenParams,
    Request,
    availability,
    rooms,
    sample_photo,
)
from playground.i18n import _

STATE, FOLLOW_UP = "arena_battle", "arena_follow_up"

st.title(_("Blind arena"))
st.caption(
    _(
        "Two models are drawn from those you can run (an open one against a closed one when both kinds are at hand), "
        "in a random order. Their names stay hidden until you vote."
    )
)
catalog = get_catalog()
session_credentials = credentials(catalog)
room = rooms.normalize_code(st.query_params.get("room", "")) or None
if room and get_store().get_room(room) is None:
    room = None
if room:
    st.caption(_("Your votes count in room {code}.").format(code=room))

task = st.segmented_control(
    _("Task"),
    ["generate", "caption"],
    default="generate",
    format_func=fixed_labels(["generate", "caption"], {"generate": _("Generate"), "caption": _("Caption")}.get),
    key="arena_task",
)
candidates = [
    m for m in catalog.for_task(task or "generate") if availability(catalog, m, session_credentials).state == READY
]
if len(candidates) < 2:
    st.info(
        _(
            "A battle needs two models that can run now; {n} can. Add an API key in the sidebar, a self-hosted endpoint, or prefetch a model."
        ).format(n=len(candidates))
    )
    st.stop()
st.caption(_("{n} models are in the draw.").format(n=len(candidates)))

if task == "caption":
    photo = st.selectbox(
        _("Sample photo"),
        list(SAMPLE_PHOTOS),
        format_func=fixed_labels(SAMPLE_PHOTOS, lambda p: _(SAMPLE_PHOTOS[p])),
        key="arena_photo",
    )
    st.image(sample_photo(photo), width=280)
    request = Request(
        "caption",
        prompt=DEFAULT_CAPTION_INSTRUCTION,
        image=sample_photo(photo),
        params=GenParams(temperature=0.0, max_new_tokens=40),
    )
    label = f"[sample photo: {photo}]"
else:
    prompt = st.text_area(_("Prompt"), value=_("Explain in two sentences why the sky is blue."), key="arena_prompt")
    max_tokens = st.slider(_("Max new tokens"), 8, 512, 96, key="arena_max_tokens")
    request = Request("generate", prompt=prompt, params=GenParams(max_new_tokens=max_tokens))
    label = prompt

if st.button(_("New battle"), type="primary", disabled=task == "generate" and not request.prompt.strip()):
    start_battle(catalog, candidates, request, session_credentials, room, STATE, label)
else:
    continue_battle(catalog, STATE, session_credentials, FOLLOW_UP)
vote_or_ask(STATE, FOLLOW_UP)
