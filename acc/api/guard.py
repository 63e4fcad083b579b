"""The request guard: what a server on a researcher's laptop refuses before any route runs.

A local API is reachable by every web page the researcher opens. Two attacks matter:
- DNS rebinding: a page from `evil.example` whose name later resolves to 127.0.0.1 reads and
  drives the API as a same-origin page. Every request must carry a `Host` this server answers to.
- Cross-site writes: a page may POST `text/plain` or form bodies anywhere without a CORS
  preflight. State changes therefore need `Content-Type: application/json` (which a cross-origin
  page can only send after a preflight that CORS refuses) and, when the browser names one, an
  `Origin` of this server or its dashboard, and a `Sec-Fetch-Site` other than `cross-site`.
  A DELETE needs no body: a browser preflights every cross-origin DELETE, so it gets the Origin
  and Sec-Fetch-Site checks, and a body, if it has one, must still be JSON.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from acc.api.errors import error_response

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_MEDIA_TYPE = "application/json"


def host_name(host: str) -> str | None:
    """The name part of a `Host` header value (`[::1]:8787` → `::1`, `Localhost:1` →
    `localhost`); None when it is not a well-formed host."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not _is_port_suffix(rest)):
            return None
        return name or None
    name, colon, port = host.partition(":")
    if colon and not (port.isascii() and port.isdigit()):
        return None
    return name or None


def _is_port_suffix(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit()


@dataclass(frozen=True)
class GuardPolicy:
    """Which hosts a server answers to and which browser origins may change its state."""

    hosts: frozenset[str]  # names a `Host` header may carry (any port)
    origins: frozenset[str]  # `scheme://host:port` of the pages allowed to write

    @classmethod
    def for_server(
        cls, bind_host: str, ports: Collection[int], extra_hosts: Collection[str] = ()
    ) -> GuardPolicy:
        """Loopback names, the bound host (unless it is a wildcard) and `extra_hosts`; the
        allowed origins are `http://<each host>:<each port>` (the server's own and its
        dashboard's)."""
        names = {*LOOPBACK_HOSTS, *(name.strip().lower() for name in extra_hosts)}
        bound = bind_host.strip().strip("[]").lower()
        if bound not in ("", "0.0.0.0", "::"):
            names.add(bound)
        names.discard("")
        origins = {
            f"http://{f'[{name}]' if ':' in name else name}:{port}"
            for name in names
            for port in ports
        }
        return cls(frozenset(names), frozenset(origins))

    def refusal(self, method: str, headers: Headers) -> tuple[int, str, str] | None:
        """(status, error code, detail) when the request must be refused, else None."""
        host = headers.get("host", "")
        if host_name(host) not in self.hosts:
            return (
                403,
                "forbidden_host",
                f"Host {host!r} is not one this server answers to; allowed: "
                f"{', '.join(sorted(self.hosts))} (any port). Add a name with --allow-host.",
            )
        if method in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and _normal_origin(origin) not in self.origins:
            return (
                403,
                "forbidden_origin",
                f"Origin {origin!r} may not change this server's state; allowed: "
                f"{', '.join(sorted(self.origins))}",
            )
        if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
            return (
                403,
                "forbidden_origin",
                "a cross-site request (Sec-Fetch-Site: cross-site) may not change this "
                "server's state",
            )
        content_type = headers.get("content-type")
        if content_type is None and method == "DELETE":
            return None
        if content_type is None or _media_type(content_type) != JSON_MEDIA_TYPE:
            got = "no Content-Type" if content_type is None else f"Content-Type {content_type!r}"
            return (
                415,
                "unsupported_media_type",
                f"a {method} needs Content-Type: {JSON_MEDIA_TYPE} (an empty body too), got {got}",
            )
        return None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _normal_origin(origin: str) -> str | None:
    """`scheme://host:port` with the default port made explicit, or None for `null` and
    anything that is not an http(s) origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = port if port is not None else (443 if parts.scheme == "https" else 80)
    name = parts.hostname.lower()
    return f"{parts.scheme}://{f'[{name}]' if ':' in name else name}:{port}"


class RequestGuard:
    """ASGI middleware applying a `GuardPolicy` to every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.policy.refusal(scope["method"], Headers(scope=scope))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, error, detail = refusal
        await error_response(status, error, detail)(scope, receive, send)
