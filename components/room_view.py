"""A classroom room on screen: the join panel (code, link, QR), the exercise form and its run, the live view that
refreshes itself every few seconds, presenter mode and the exports."""

from __future__ import annotations

import io
import math

import pandas as pd
import plotly.graph_objects as go
import segno
import streamlit as st

from components import room_prompt_sets
from components.answer import safe_markdown
from components.arena_view import continue_battle, start_battle, vote_or_ask
from components.charts import LEGEND_BELOW
from components.language import fixed_labels
from components.leaderboard_view import render_leaderboard
from components.prompt_sets_view import choose_set
from components.run_view import render_finished, render_side_by_side
from components.session import get_store, scope, server_settings
from components.settings import hourly_rate
from playground import (
    DEFAULT_CAPTION_INSTRUCTION,
    PUBLIC_URL_SETTING,
    READY,
    SAMPLE_PHOTOS,
    Catalog,
    Credentials,
    GenParams,
    InputError,
    JoinAddress,
    Request,
    availability,
    format_usd,
    join_root,
    rooms,
    sample_photo,
)
from playground.access import server_secret
from playground.budget import spending_line
from playground.i18n import _, is_chinese
from playground.prompt_sets import from_data
from playground.public_url import LAN
from playground.store import measured_speeds

MAX_PROMPT_CHARS = 4_000  # the store refuses an exercise over 8,000 characters of JSON
OUTCOME_COLOURS = {"won": "#2e9e44", "tie": "#9aa0a6", "both_bad": "#b3261e", "lost": "#e8a33d"}
LIVE_EVERY_S = 4  # the live view reruns itself this often (a fragment: the rest of the page stays as it is)
PRESENTER_CSS = """<style>
.stMainBlockContainer p, .stMainBlockContainer li, .stMainBlockContainer label p { font-size: 1.5rem !important; }
.stMainBlockContainer h1 { font-size: 3.4rem !important; } .stMainBlockContainer h2 { font-size: 2.4rem !important; }
.stMainBlockContainer [data-testid="stMetricValue"], .stMainBlockContainer [data-testid="stMetricValue"] * {
  font-size: 3.2rem !important; line-height: 1.15 !important; overflow: visible !important;
  text-overflow: clip !important; white-space: normal !important; }
.stMainBlockContainer [data-testid="stMetricLabel"] p { font-size: 1.3rem !important; }
.stMainBlockContainer button p { font-size: 1.6rem !important; }
</style>"""


def join_address() -> JoinAddress:
    """Where students reach this server. The instructor's browser address comes from ``st.context.url``, which is
    not sent on every rerun; the WebSocket's Origin header (plus any base path) then says the same."""
    root = st.context.url
    if not root:
        prefix = str(st.get_option("server.baseUrlPath") or "").strip("/")
        root = "/".join(p for p in (st.context.headers.get("Origin", ""), prefix) if p)
    root = root.split("?")[0].rstrip("/").removesuffix("/room")
    listens_on = str(st.get_option("server.address") or "")
    return join_root(root, server_secret(PUBLIC_URL_SETTING), listens_on)


def join_link(code: str, address: JoinAddress) -> str:
    """The room page's address with ``?room=CODE``, in the instructor's language."""
    return f"{address.root}/room?room={code}" + ("&lang=zh" if is_chinese() else "")


def qr_png(link: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def render_join_panel(code: str, title: str) -> None:
    address = join_address()
    link = join_link(code, address)
    left, right = st.columns([3, 1])
    with left:
        st.header(safe_markdown(title))
        st.markdown(_("Room code: **{code}**").format(code=code))
        st.code(link, language=None)
        if not address.reachable:
            st.warning(
                _(
                    "Students cannot open this link from their own devices: it reaches only this computer. Set "
                    "{setting} (in the environment or .streamlit/secrets.toml) to the address students can reach, "
                    "or serve on every interface (streamlit run app.py --server.address 0.0.0.0)."
                ).format(setting=PUBLIC_URL_SETTING),
                icon=":material/wifi_off:",
            )
        elif address.source == LAN:
            st.caption(
                _(
                    "Your browser shows a local address, so the link uses this machine's network address instead: "
                    "students on the same network can open it. If they reach the server another way, set {setting}."
                ).format(setting=PUBLIC_URL_SETTING)
            )
        st.caption(_("Students open the link (or scan the code) and find the exercise ready."))
    right.image(qr_png(link), caption=_("Scan to join"), width=180)


# ---------------------------------------------------------------- the exercise


def task_names() -> dict[str, str]:
    return {"generate": _("Generate"), "caption": _("Caption"), rooms.PROMPT_SET: _("Prompt set")}


def exercise_form(catalog: Catalog, credentials: Credentials, current: rooms.Exercise | None) -> rooms.Exercise | None:
    """The instructor's form; returns the exercise when it is saved. The task and the prompt set are chosen above
    the form, so the form shows only what the task needs and the set is checked as soon as it is picked."""
    tasks = list(task_names())
    task = st.radio(
        _("Task"), tasks, horizontal=True, key="exercise_task", index=tasks.index(current.task) if current else 0,
        format_func=fixed_labels(tasks, task_names().get),
    )  # fmt: skip
    prompt_set = None
    if task == rooms.PROMPT_SET:  # an uploaded set is not uploaded again to change the models or the tokens
        handed_out = from_data(current.prompt_set) if current is not None and current.prompt_set else None
        keep = handed_out is not None and st.checkbox(
            _("Keep the set handed out: {name}").format(name=handed_out.name), value=True, key="exercise_keep_set"
        )
        prompt_set = handed_out if keep else choose_set(catalog)
    model_task = "caption" if task == "caption" else "generate"
    with st.form("exercise_form"):
        models = [m for m in catalog.models.values() if {"generate", "caption"} & set(m.tasks)]
        status = {m.id: availability(catalog, m, credentials) for m in models}
        chosen = st.multiselect(
            _("Models"),
            [m.id for m in models],
            placeholder=_("Choose models"),
            select_all=False,  # Streamlit's "Select all" is English in every language
            default=list(current.models) if current else [m for m in status if status[m].state == READY][:2],
            format_func=fixed_labels(
                status, lambda m: catalog.get(m).label + ("" if status[m].state == READY else f" · {status[m].status}")
            ),
        )
        prompt = photo = ""
        if task == "generate":
            default = _("Explain in two sentences what an open-weight model is.")
            prompt = st.text_area(
                _("Prompt"), value=current.prompt if current and current.prompt else default, max_chars=MAX_PROMPT_CHARS
            )
        elif task == "caption":
            photo_names = list(SAMPLE_PHOTOS)
            photo = st.selectbox(
                _("Sample photo"), photo_names, format_func=fixed_labels(photo_names, lambda p: _(SAMPLE_PHOTOS[p])),
                index=photo_names.index(current.sample_image) if current and current.sample_image in photo_names else 0,
            )  # fmt: skip
        a, b = st.columns(2)
        params = current.params if current else GenParams()
        temperature = a.slider(_("Temperature"), 0.0, 2.0, params.temperature, 0.05)
        max_tokens = b.number_input(_("Max new tokens"), 1, 1024, params.max_new_tokens)
        blind = task != rooms.PROMPT_SET and st.checkbox(
            _("Blind battle: students see two anonymous answers and vote"), value=current.blind if current else False
        )
        if not st.form_submit_button(_("Save the exercise"), type="primary"):
            return None
    wrong_task = [catalog.get(m).name for m in chosen if model_task not in catalog.get(m).tasks]
    if len(chosen) < (2 if blind else 1) or wrong_task:
        st.warning(
            _("Pick models that can do this task (two at least for a blind battle).")
            + (" " + _("Cannot: {names}.").format(names=", ".join(wrong_task)) if wrong_task else "")
        )
        return None
    if task == rooms.PROMPT_SET and prompt_set is None:
        st.warning(_("Choose a prompt set, or upload one, before you save."))
        return None
    exercise = rooms.Exercise(
        task=task,
        models=tuple(chosen),
        prompt=prompt,
        sample_image=photo,
        params=GenParams(temperature=temperature, top_p=params.top_p, max_new_tokens=int(max_tokens), seed=params.seed),
        blind=blind,
        prompt_set=prompt_set.as_data() if prompt_set is not None else None,
    )
    try:
        exercise.check_size()
    except InputError as exc:
        st.warning(f"{exc.message} {exc.hint}")
        return None
    return exercise


def describe_exercise(catalog: Catalog, exercise: rooms.Exercise) -> None:
    """What students see before they run it. A blind battle does not say which models are in it."""
    if exercise.task == rooms.PROMPT_SET:
        prompt_set = exercise.prompt_set or {"name": "", "rows": []}
        st.markdown(
            _("Prompt set **{name}**: {n} prompts, each on every model, and every answer checked.").format(
                name=safe_markdown(prompt_set["name"]), n=len(prompt_set["rows"])
            )
        )
    elif exercise.task == "caption":
        st.image(
            sample_photo(exercise.sample_image), caption=_(SAMPLE_PHOTOS.get(exercise.sample_image, "")), width=320
        )
    else:
        st.markdown("> " + safe_markdown(exercise.prompt).replace("\n", "\n> "))
    if exercise.blind:
        if len(exercise.models) == 2:
            st.caption(
                _("A blind battle: both models answer unnamed; vote for the better answer, then see who they were.")
            )
        else:
            st.caption(
                _(
                    "A blind battle: two of {n} models answer; vote for the better answer, then see who they were."
                ).format(n=len(exercise.models))
            )
    else:
        st.caption(_("Models: {names}").format(names=", ".join(catalog.get(m).label for m in exercise.models)))


def exercise_request(exercise: rooms.Exercise) -> tuple[Request, str]:
    """The request an exercise makes, and how the battle files its prompt."""
    if exercise.task == "caption":
        image = sample_photo(exercise.sample_image)
        return Request(
            "caption", prompt=DEFAULT_CAPTION_INSTRUCTION, image=image, params=exercise.params
        ), f"[sample photo: {exercise.sample_image}]"
    return Request("generate", prompt=exercise.prompt, params=exercise.params), exercise.prompt


def run_exercise(
    catalog: Catalog, exercise: rooms.Exercise, credentials: Credentials, code: str, run_now: bool
) -> None:
    """Run the exercise when ``run_now`` (tagged with the room), else show this session's last run of it again."""
    state_key, outcome_key = f"room_battle_{code}", f"room_outcome_{code}"
    if exercise.task == rooms.PROMPT_SET:
        room_prompt_sets.run_exercise(catalog, exercise, credentials, code, run_now)
        return
    if exercise.blind:
        candidates = [
            catalog.get(m) for m in exercise.models if availability(catalog, catalog.get(m), credentials).ready
        ]
        follow_up_key = f"room_follow_up_{code}"
        if run_now:
            request, label = exercise_request(exercise)
            start_battle(catalog, candidates, request, credentials, code, state_key, label)
        else:
            continue_battle(catalog, state_key, credentials, follow_up_key)
        vote_or_ask(state_key, follow_up_key)  # follow-ups before the vote, as in the arena
        return
    if run_now:
        request, _label = exercise_request(exercise)
        st.session_state[outcome_key] = render_side_by_side(
            catalog, list(exercise.models), request, credentials, room=code
        )
    elif (outcome := st.session_state.get(outcome_key)) is not None:
        render_finished(catalog, outcome)


# ---------------------------------------------------------------- the live view


def latency_chart(latency: pd.DataFrame) -> go.Figure:
    """Each model's latency across the class, as a distribution: wait in line, then the whole answer."""
    fig = go.Figure()
    for label, column in ((_("waited in line"), "queue_s"), (_("total, from arrival"), "total_s")):
        fig.add_box(
            x=latency[column], y=latency["model"], name=label, orientation="h", boxpoints="all", jitter=0.4, pointpos=0
        )
    fig.update_layout(
        title=_("Latency across the class"), xaxis_title=_("seconds"), boxmode="group",
        height=max(260, 90 * latency["model"].nunique() + 140),
        margin=dict(l=10, r=10, t=40, b=10), legend=LEGEND_BELOW,
    )  # fmt: skip
    return fig


def outcome_names() -> dict[str, str]:
    return {"won": _("preferred"), "tie": _("tie"), "both_bad": _("both bad"), "lost": _("the other was preferred")}


def tally_chart(catalog: Catalog, tally: pd.DataFrame) -> go.Figure:
    """Votes by model and outcome: sides are drawn anew for every student, so "A" would mean nothing here."""
    fig = go.Figure()
    names = {m: catalog.name_of(m) for m in tally["model_id"]}
    most = int(tally.groupby("model_id")["votes"].sum().max())
    for outcome, label in outcome_names().items():
        part = tally[tally["outcome"] == outcome]
        fig.add_bar(
            y=[names[m] for m in part["model_id"]], x=part["votes"], name=label, orientation="h",
            marker_color=OUTCOME_COLOURS[outcome],
        )  # fmt: skip
    fig.update_layout(
        title=_("Votes by model"), barmode="stack",
        xaxis=dict(title=_("votes"), dtick=max(1, math.ceil(most / 8)), rangemode="tozero"),  # whole votes only
        height=max(200, 60 * len(names) + 140), margin=dict(l=10, r=10, t=40, b=10),
        legend=LEGEND_BELOW,
    )  # fmt: skip
    return fig


def render_totals(code: str, summary: rooms.RoomSummary) -> None:
    """The room in four numbers and its spending on the server's keys against its budget: what students see too."""
    a, b, c, d = st.columns(4)
    a.metric(_("Joined"), len(summary.members))
    b.metric(_("Ran the exercise"), summary.runners, help=_("Sessions with at least one run in this room."))
    c.metric(_("Runs"), summary.runs)
    d.metric(
        _("Class spent"),
        format_usd(summary.spent_usd),
        help=_("API prices plus the hardware rate for local models, over {n} runs.").format(n=summary.runs),
    )
    st.caption(
        _("On the server's keys: {spent}.").format(
            spent=spending_line(get_store().spent(room=code), get_store().room_budget(code))
        )
    )


def room_summary(code: str) -> tuple[rooms.RoomSummary, pd.DataFrame, pd.DataFrame]:
    store = get_store()
    members = pd.DataFrame(store.room_members(code), columns=["display_name", "session_id", "joined_at"])
    runs, votes = store.runs(room=code), store.votes(code)
    return rooms.summarize(members, runs, votes), runs, votes


def student_live(code: str) -> None:
    """A student's view of the room: aggregates only, never another student's prompt, answer or name."""

    @st.fragment(run_every=LIVE_EVERY_S * 2)
    def _totals() -> None:
        render_totals(code, room_summary(code)[0])

    _totals()


def render_live(catalog: Catalog, code: str, rounds: int = 100) -> None:
    """The room as it stands: read from the store on every rerun, so every replica and session agrees."""
    summary, runs, votes = room_summary(code)
    render_totals(code, summary)
    if summary.members:
        st.caption(_("In the room: {names}").format(names=safe_markdown(", ".join(summary.members))))
    if summary.latency.empty:
        st.info(_("No finished runs yet: the class's latency appears here as students run the exercise."))
    else:
        st.plotly_chart(latency_chart(summary.latency))
        st.dataframe(  # under the chart, not beside it: a narrow column cut its last column off
            summary.spend.assign(usd=[format_usd(u) for u in summary.spend["usd"].fillna(0)]),
            hide_index=True,
            column_config={"model": _("Model"), "runs": _("Runs"), "usd": _("Spent")},
        )
    if summary.tally.empty:
        st.caption(_("No votes yet."))
    else:
        st.plotly_chart(tally_chart(catalog, summary.tally))
    room_prompt_sets.render_class_results(catalog, code)
    speeds = measured_speeds(runs)
    render_leaderboard(
        catalog, votes, hourly_rate(), dict(zip(speeds["model_id"], speeds["tokens_per_s"])), rounds=rounds
    )


def live_view(catalog: Catalog, code: str, exports: bool = True) -> None:
    """The live view as a fragment: only it reruns every LIVE_EVERY_S seconds, never the whole page. The exports
    live inside it, so the file a teacher downloads holds the class as it is now."""

    @st.fragment(run_every=LIVE_EVERY_S)
    def _live() -> None:
        render_live(catalog, code)
        if exports:
            with st.expander(_("Export")):
                export_buttons(code)

    _live()


def follow_exercise(code: str, shown: dict | None) -> None:
    """A student's page picks up a new or changed exercise by itself (no "Check again"): a fragment looks every
    LIVE_EVERY_S seconds and reruns the page when the exercise is not the one on screen."""

    @st.fragment(run_every=LIVE_EVERY_S)
    def _watch() -> None:
        room = get_store().get_room(code)
        if room is not None and room.get("exercise") != shown:
            for key in (f"room_battle_{code}", f"room_outcome_{code}"):  # the last exercise's answers
                st.session_state.pop(key, None)
            st.rerun()

    _watch()


def export_buttons(code: str) -> None:
    export = get_store().export_room(code, scope())
    left, right = st.columns(2)
    left.download_button(_("Export JSON"), rooms.export_json(export), f"room-{code}.json", "application/json")
    right.download_button(
        _("Export CSV (zip)"), rooms.export_csv_zip(export), f"room-{code}-csv.zip", "application/zip"
    )


def room_budget_form(code: str) -> None:
    """The instructor's cap on what this room spends on the server's keys, within the admin's ceiling."""
    ceiling = server_settings()["budget_room_max_usd"]
    current = get_store().room_budget(code)
    with st.expander(_("Budget on the server's keys")), st.form("room_budget", border=False):
        usd = st.number_input(
            _("Most this room may spend (USD)"),
            min_value=0.0,
            max_value=float(ceiling),
            value=float(min(current if current is not None else ceiling, ceiling)),
            step=0.5,
            help=_("The admin allows up to {ceiling} per room. Keys students paste themselves are not capped.").format(
                ceiling=format_usd(ceiling)
            ),
        )
        if st.form_submit_button(_("Set the budget")):
            get_store().set_room_budget(code, min(float(usd), float(ceiling)))
            st.success(_("Set: {usd}.").format(usd=format_usd(usd)))


def presenter_style() -> None:
    st.html(PRESENTER_CSS)
