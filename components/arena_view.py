"""The blind battle on screen: two cards called "Model A" and "Model B", the vote, then the reveal.

Blind means the page never holds a name: the pair, the events' model ids, notices (which may name a model while it
loads) and costs (whose source names the price) stay in ``st.session_state`` on the server. Before the vote only
the answers and generic progress reach the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import streamlit as st

from components.answer import safe_markdown, show_answer
from components.result_card import cost_caption, energy_caption, metrics_line, openness_badge, waiting_line
from components.session import get_playground, get_store, run_context, session_id
from components.settings import run_settings
from playground import Catalog, Credentials, Failure, InputError, ModelSpec, Request, Result, Token, Waiting, arena
from playground.i18n import _

SIDES = ("a", "b")
VOTE_ICONS = {
    "a": ":material/arrow_back:",
    "b": ":material/arrow_forward:",
    "tie": ":material/balance:",
    "both_bad": ":material/thumb_down:",
}


@dataclass
class BattleState:
    """One battle as this session saw it; kept server-side only."""

    battle: arena.Battle
    room: str | None
    texts: dict[str, str] = field(default_factory=dict)
    finals: dict[str, Result | Failure] = field(default_factory=dict)
    anonymous: bool = True
    choice: str | None = None  # the vote this session cast
    refusal: str | None = None  # why a vote was not counted
    request: Request | None = None  # the current turn's request
    past: list[tuple[str, dict[str, Result | Failure]]] = field(default_factory=list)  # earlier turns, answered

    def model_of(self, side: str) -> str:
        return self.battle.model_a if side == "a" else self.battle.model_b

    @property
    def turns(self) -> int:
        return len(self.past) + 1

    def history(self, model_id: str) -> tuple[dict, ...]:
        """Each model's own thread so far: the follow-up is asked of its own earlier answers."""
        messages = []
        for prompt, finals in [*self.past, (self.request.prompt, self.finals)]:
            messages += [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": _text(finals.get(model_id))},
            ]
        return tuple(messages)


def side_title(side: str) -> str:
    return _("Model A") if side == "a" else _("Model B")


def choice_labels() -> dict[str, str]:
    return {"a": _("A is better"), "b": _("B is better"), "tie": _("Tie"), "both_bad": _("Both are bad")}


def start_battle(
    catalog: Catalog,
    candidates: list[ModelSpec],
    request: Request,
    credentials: Credentials,
    room: str | None,
    state_key: str,
    prompt_label: str,
) -> BattleState | None:
    """Draw a pair, file the battle, and stream both answers blind. None (with a message) when no pair exists."""
    try:
        battle = arena.new_battle(request.task, candidates)
    except InputError as exc:
        st.warning(f"{exc.message} {exc.hint}")
        return None
    get_store().create_battle(battle.id, session_id(), room, battle.task, battle.model_a, battle.model_b, prompt_label)
    state = BattleState(battle, room, request=request)
    st.session_state[state_key] = state
    _stream_turn(catalog, state, request, credentials)
    return state


def follow_up(catalog: Catalog, state: BattleState, text: str, credentials: Credentials) -> None:
    """Ask both models a follow-up before the vote, each in its own thread; still blind."""
    requests = {m: replace(state.request, prompt=text, history=state.history(m)) for m in state.finals}
    state.past.append((state.request.prompt, state.finals))
    state.request, state.texts, state.finals = requests[state.battle.model_a], {}, {}
    _show_past(state)
    _stream_turn(catalog, state, requests, credentials)


def can_follow_up(state: BattleState) -> bool:
    return state.choice is None and state.battle.task == "generate" and len(state.finals) == 2


def continue_battle(catalog: Catalog, state_key: str, credentials: Credentials, follow_up_key: str) -> None:
    """The battle after a rerun (the arena's and a room exercise's): a follow-up typed in ``follow_up_key``'s box
    is asked of both models, else the battle is shown as it stands."""
    if (state := st.session_state.get(state_key)) is None:
        return
    if can_follow_up(state) and (asked := st.session_state.get(follow_up_key)):
        follow_up(catalog, state, asked, credentials)
    else:
        show_battle(catalog, state)


def vote_or_ask(state_key: str, follow_up_key: str) -> None:
    """Under the battle: the vote (or what became of it) and, until the vote, a box for a follow-up, whose text
    ``continue_battle`` reads on the rerun it causes."""
    if (state := st.session_state.get(state_key)) is None:
        return
    vote_or_outcome(state, state_key)
    if can_follow_up(state):
        st.chat_input(_("Ask both a follow-up before you vote"), key=follow_up_key)


HELD = "held-answer"  # the key prefix of an answer drawn while the other side's is still being drawn
HOLD_CSS = f'<style>[class*="st-key-{HELD}-"] {{display: none}}</style><span hidden></span>'  # not style-only: a
# style-only st.html goes to Streamlit's event container, outside the placeholder that removes it


def _stream_turn(catalog: Catalog, state: BattleState, request, credentials: Credentials) -> None:
    """One turn of a battle, both sides at once and blind. When a side is local, both answers appear together once
    both are complete, so their speed does not give the models away."""
    battle, room = state.battle, state.room
    if state.past:
        _show_question(state.request.prompt)
    together = arena.reveal_together(catalog, battle)
    status = st.empty()
    if together:
        with status.container():
            st.info(
                _("Both answers appear together once both are complete, so their speed does not give the models away."),
                icon=":material/hourglass_top:",
            )
            st.html(HOLD_CSS)  # keeps the answers hidden while they are drawn; goes with this notice
    columns = dict(zip(SIDES, st.columns(2)))
    slots = {}
    for side, column in columns.items():
        with column:
            if not state.past:
                st.subheader(side_title(side))
            slots[state.model_of(side)] = (st.empty(), st.empty())
    context = run_context("arena", room=room, battle_id=battle.id, conversation_id=battle.id, turn=state.turns)
    for event in get_playground().run([battle.model_a, battle.model_b], request, credentials, context, run_settings()):
        _show_blind_event(state, slots[event.model_id], event, held=together)
    if together:  # draw both hidden, then drop the notice and its style in one message: the browser shows both
        for side in SIDES:
            model_id = state.model_of(side)
            if (final := state.finals.get(model_id)) is not None:
                _notice, body = slots[model_id]
                with body.container(key=f"{HELD}-{battle.id}-{state.turns}-{side}"):
                    _blind_answer(final)
        status.empty()
    state.anonymous = arena.is_anonymous(catalog, battle, *(_answers(state, side) for side in SIDES))


def _show_blind_event(state: BattleState, slot: tuple, event, held: bool) -> None:
    """One event of a battle, shown on its side without naming its model; ``held``: nothing side-specific is shown
    until both answers are done (not a token, not a place in line, not "done")."""
    notice, body = slot
    if isinstance(event, Token):
        state.texts[event.model_id] = state.texts.get(event.model_id, "") + event.text
    elif isinstance(event, (Result, Failure)):
        state.finals[event.model_id] = event
    if held:
        return
    if isinstance(event, Token):
        notice.empty()
        body.markdown(safe_markdown(state.texts[event.model_id]) + " ▌")
    elif isinstance(event, Waiting):
        notice.info(waiting_line(event), icon=":material/hourglass_top:")
    elif isinstance(event, (Result, Failure)):
        notice.empty()
        with body.container():
            _blind_answer(event)
    else:  # a Notice may name the model ("Loading SmolLM2…"): show that work goes on, not what it says
        notice.info(_("Working on it…"), icon=":material/hourglass_top:")


def _text(final: Result | Failure | None) -> str:
    if isinstance(final, Result):
        return final.text or final.label or ""
    return final.partial_text if final is not None else ""


def _answers(state: BattleState, side: str) -> str:
    """Every answer this side gave in the battle: a name dropped in any turn leaves the ratings."""
    model_id = state.model_of(side)
    return "\n\n".join(_text(finals.get(model_id)) for _prompt, finals in [*state.past, ("", state.finals)])


def _show_question(prompt: str) -> None:
    """A follow-up the student asked, between the turns' answers."""
    you = _("You")  # outside the f-string, where the extractor sees it
    st.markdown(f"**{you}:** {safe_markdown(prompt)}")


def _show_past(state: BattleState) -> None:
    """The earlier turns of a battle, blind until the vote."""
    for number, (prompt, finals) in enumerate(state.past, 1):
        if number > 1:
            _show_question(prompt)
        for side, column in zip(SIDES, st.columns(2)):
            with column:
                if number == 1:
                    st.subheader(side_title(side))
                if (final := finals.get(state.model_of(side))) is not None:
                    _blind_answer(final)


def _blind_answer(final: Result | Failure) -> None:
    """An answer without its maker: a failure shows its kind, never its message (which names the model)."""
    if isinstance(final, Result):
        show_answer(final.text)
        return
    st.error(_("This model did not answer ({code}).").format(code=final.code))
    if final.partial_text:
        st.caption(_("Partial answer: the call failed before it finished."))
        show_answer(final.partial_text)


def show_battle(catalog: Catalog, state: BattleState) -> None:
    """The battle after a rerun: blind until this session voted, then every card names its model."""
    _show_past(state)
    if state.past:
        _show_question(state.request.prompt)
    for side, column in zip(SIDES, st.columns(2)):
        model_id = state.model_of(side)
        final = state.finals.get(model_id)
        with column:
            if not state.past:
                st.subheader(side_title(side))
            if state.choice is not None:
                _reveal_header(catalog.get(model_id))
            if final is not None:
                _blind_answer(final)
            if state.choice is not None and final is not None and final.metrics is not None:
                st.caption(
                    metrics_line(final.metrics, final.extra.get("hardware", "") if isinstance(final, Result) else "")
                )
                cost_caption(final.cost)
                energy_caption(final.energy)


def _reveal_header(spec: ModelSpec) -> None:
    st.markdown(f"**{spec.display_name}** {openness_badge(spec.openness)}")
    size = spec.params or _("size not published")
    st.caption(f"{spec.license} · {size}")


def vote_or_outcome(state: BattleState, state_key: str) -> None:
    """The four vote buttons while the vote is open; afterwards, what happened to the vote."""
    if state.choice is None:
        if state.refusal is not None:
            st.warning(refusal_text(state.refusal))
        if len(state.finals) < 2:
            return
        for (choice, label), column in zip(choice_labels().items(), st.columns(4)):
            column.button(
                label,
                key=f"vote_{choice}",
                on_click=cast_vote,
                args=(state_key, choice),
                width="stretch",
                icon=VOTE_ICONS[choice],
            )
        return
    if state.refusal is not None:
        st.warning(refusal_text(state.refusal))
    else:
        st.success(_("Vote counted: {choice}.").format(choice=choice_labels()[state.choice]))
    if not state.anonymous:
        st.info(_("An answer named its own model or vendor: the vote is kept but left out of the ratings."))


def refusal_text(reason: str) -> str:
    return {
        "not_shown": _("This battle was not shown to this session, so its vote cannot count."),
        "cap": _("This session has reached its vote limit ({n}) here.").format(n=arena.VOTE_CAP),
        "already": _("This battle already has a vote; it counts once."),
        "unknown_choice": _("That is not a vote."),
    }[reason]


def cast_vote(state_key: str, choice: str) -> None:
    """Button callback: apply the vote rules, count the vote once, then reveal."""
    state: BattleState = st.session_state[state_key]
    store = get_store()
    row = store.get_battle(state.battle.id)
    votes = store.votes(state.room)
    mine = votes[votes["session_id"] == session_id()] if not votes.empty else votes
    if state.room is None and not mine.empty:
        mine = mine[mine["room"].isna()]
    refusal = arena.vote_refusal(row["session_id"] if row else None, session_id(), choice, len(mine))
    if refusal is None and not store.record_vote(
        state.battle.id, session_id(), state.room, choice, state.anonymous, turns=state.turns
    ):
        refusal = "already"
    state.refusal = refusal
    if refusal in (None, "already"):
        state.choice = choice
        store.mark_battle_shown(state.battle.id)
