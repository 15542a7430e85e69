"""Where students can reach this server: the room's join link and QR code must not point at the instructor's own
machine. ``PLAYGROUND_PUBLIC_URL`` (environment or secrets.toml) wins; else, when the instructor's browser shows a
loopback address, this machine's LAN address is put in its place (read from its interfaces; nothing is sent);
else the link says plainly that students cannot open it."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

PUBLIC_URL_SETTING = "PLAYGROUND_PUBLIC_URL"
CONFIGURED, LAN, BROWSER = "configured", "lan", "browser"  # where a join address came from


@dataclass(frozen=True)
class JoinAddress:
    root: str  # scheme://host[:port][/base], without a trailing slash
    source: str  # CONFIGURED, LAN or BROWSER
    reachable: bool  # False: students' devices cannot open it (loopback, or a server that listens on loopback only)


def is_loopback(host: str) -> bool:
    if host in ("", "localhost", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def lan_address() -> str | None:
    """This machine's first private (else any non-loopback) IPv4 address, read from its network interfaces."""
    try:
        import psutil  # installed with accelerate; optional here

        found = [
            a.address for addresses in psutil.net_if_addrs().values() for a in addresses if a.family == socket.AF_INET
        ]
    except ImportError:
        found = [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    usable = [a for a in found if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_link_local]
    usable.sort(key=lambda a: not ipaddress.ip_address(a).is_private)
    return usable[0] if usable else None


def join_root(browser_root: str, configured: str = "", listens_on: str = "", lan: str | None = None) -> JoinAddress:
    """The root students should open. ``browser_root``: the address the instructor's browser shows;
    ``configured``: PLAYGROUND_PUBLIC_URL; ``listens_on``: the server's bind address (empty: every interface);
    ``lan``: this machine's LAN address (looked up when not given)."""
    if configured.strip():
        return JoinAddress(configured.strip().rstrip("/"), CONFIGURED, True)
    parts = urlsplit(browser_root)
    if parts.hostname and not is_loopback(parts.hostname):
        return JoinAddress(browser_root.rstrip("/"), BROWSER, True)
    lan = lan if lan is not None else lan_address()
    if not lan or not parts.hostname or (listens_on and is_loopback(listens_on)):  # the LAN could not reach it
        return JoinAddress(browser_root.rstrip("/"), BROWSER, False)
    netloc = lan + (f":{parts.port}" if parts.port else "")
    return JoinAddress(urlunsplit((parts.scheme or "http", netloc, parts.path.rstrip("/"), "", "")), LAN, True)
