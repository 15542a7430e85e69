"""The room's join link reaches students: a configured public address wins, a loopback one is replaced by this
machine's LAN address, and a link nobody else can open is said to be one (issue 22, item 3)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playground import rooms
from playground.public_url import BROWSER, CONFIGURED, LAN, is_loopback, join_root, lan_address
from playground.store import Store
from tests.apptest import app_page


def test_a_configured_public_address_wins():
    address = join_root("http://127.0.0.1:8501", configured="https://class.example.org/play/", lan="10.0.0.5")
    assert (address.root, address.source, address.reachable) == ("https://class.example.org/play", CONFIGURED, True)


def test_a_loopback_browser_address_becomes_the_lan_address_with_its_port_and_base_path():
    address = join_root("http://localhost:8611/base", lan="192.168.1.20")
    assert (address.root, address.source, address.reachable) == ("http://192.168.1.20:8611/base", LAN, True)
    # a server that listens on loopback only cannot be reached at its LAN address either: the link stays, flagged
    local_only = join_root("http://127.0.0.1:8611", listens_on="127.0.0.1", lan="192.168.1.20")
    assert (local_only.root, local_only.reachable) == ("http://127.0.0.1:8611", False)


def test_without_any_outside_address_the_link_is_marked_unreachable():
    address = join_root("http://127.0.0.1:8611", lan="")
    assert (address.source, address.reachable) == (BROWSER, False)
    assert join_root("http://192.168.1.20:8611", lan="").reachable  # the browser's own LAN address is fine


def test_the_lan_address_is_read_from_this_machines_interfaces():
    found = lan_address()
    assert found is None or not is_loopback(found)


def _instructor(at, code: str):
    at.session_state["instructor_rooms"] = {code}
    at.query_params["room"] = code
    return at.run()


def test_the_join_link_uses_the_public_url_and_keeps_the_language(monkeypatch, tmp_path):
    db = str(tmp_path / "room.sqlite")
    Store(db).create_room("ABCDEFGH", "Class", rooms.hash_pin("2468"))
    public = "https://class.example.org"
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db, PLAYGROUND_PUBLIC_URL=public) as at:
        at.session_state["language"] = "zh_CN"
        _instructor(at, "ABCDEFGH")
        link = next(c.value for c in at.code if "room=ABCDEFGH" in c.value)
        assert not is_loopback(urlsplit(link).hostname) and link.startswith(public)
        assert link.endswith("&lang=zh") and not at.warning


def test_the_page_warns_when_students_could_not_open_the_link(monkeypatch, tmp_path):
    db = str(tmp_path / "room.sqlite")
    Store(db).create_room("ABCDEFGH", "Class", rooms.hash_pin("2468"))
    monkeypatch.delenv("PLAYGROUND_PUBLIC_URL", raising=False)
    with app_page(monkeypatch, "room", PLAYGROUND_DB=db) as at:  # AppTest has no browser address at all
        _instructor(at, "ABCDEFGH")
        assert any("Students cannot open this link" in w.value for w in at.warning)
