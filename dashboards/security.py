"""Server-side security for the Dash app: sign-in, sessions, the request guard, headers and limits.

`install_security(server, warehouse=..., secret_key=..., production=...)` is called once by
`dashboards/app.py` on the Flask server beneath Dash, before the first request. After it:

- every request except `/login`, `/logout`, `/login/sso`, `/login/sso/callback`, `/healthz` and
  `/favicon.ico` needs a signed-in, active user: anonymous
  page requests from a browser are redirected to `/login`; anything else (Dash's `/_dash-*` endpoints,
  component suites, assets, downloads, data) gets 401 JSON;
- callbacks call `require("upload")` etc. first; a refusal (`PermissionDenied`) becomes 403 JSON
  and an `access_denied` audit row;
- the session cookie is HttpOnly, SameSite=Lax, Secure in production; it carries a fingerprint of
  the password hash, so a reset or disabled account ends open sessions within seconds;
- sign-in attempts are limited per client address and per username (in this process) on top of the
  account lockout kept in the warehouse (across processes);
- responses carry CSP (inline scripts allowed only by their SHA-256), frame, sniffing and referrer
  headers; request bodies above the upload limit are refused before they are read.

Environment: PILOT_ROI_SECRET_KEY (required in production, >= 32 characters), PILOT_ROI_MAX_UPLOAD_MB,
PILOT_ROI_PROXY_HOPS (trusted reverse proxies in front, for client addresses), PILOT_ROI_SESSION_HOURS,
PILOT_ROI_SIGNIN_LIMIT_IP / PILOT_ROI_SIGNIN_LIMIT_USER (failed attempts per 5 minutes),
PILOT_ROI_MAX_FAILED_SIGNINS / PILOT_ROI_LOCKOUT_MINUTES (account lockout),
PILOT_ROI_CSP_UNSAFE_EVAL=1 (only if a component turns out to need eval), PILOT_ROI_SESSION_CHECK_SECONDS
(how long a checked session is trusted before the account is read again; default 5).

Single sign-on (OpenID Connect, Keycloak / AD FS / Entra ID; needs the `authlib` package), on when
PILOT_ROI_OIDC_ISSUER is set: PILOT_ROI_OIDC_ISSUER (the issuer URL; its /.well-known/openid-configuration
is read), PILOT_ROI_OIDC_CLIENT_ID, PILOT_ROI_OIDC_CLIENT_SECRET, PILOT_ROI_OIDC_SCOPES (default
"openid profile email"), PILOT_ROI_OIDC_USERNAME_CLAIM (default preferred_username), PILOT_ROI_OIDC_LABEL
(the button's provider name), PILOT_ROI_OIDC_REDIRECT_URI (default: this server's /login/sso/callback).
The provider says who someone is; the local account (`pilot-roi users add`) says what they may do: a
provider's user without an enabled local account of the same name is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

import flask
from flask import g, jsonify, redirect, render_template_string, request, session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboards.context import LANG_COOKIE
from pilot_roi import audit
from pilot_roi.auth import (
    AuthenticationFailed,
    LockoutPolicy,
    User,
    authenticate,
    can,
    get_user,
    normalise_username,
    session_fingerprint,
    sign_in_external,
)
from pilot_roi.errors import PermissionDenied, PilotRoiError, Problem, WarehouseBusy
from pilot_roi.i18n import t
from pilot_roi.upload_guard import UploadLimits
from pilot_roi.warehouse import connect, transaction

log = logging.getLogger("pilot_roi.security")

LANGS = ("ru", "kk", "en")
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
SSO_PATH = "/login/sso"
SSO_CALLBACK_PATH = "/login/sso/callback"
PUBLIC_PATHS = frozenset({LOGIN_PATH, LOGOUT_PATH, SSO_PATH, SSO_CALLBACK_PATH, "/healthz", "/favicon.ico"})
# Never answered with a redirect: scripts and data; a browser page turns them into nothing useful.
DATA_PREFIXES = ("/_dash-", "/_reload-hash", "/_favicon", "/assets/", "/download", "/api/", "/export")
DASH_POST_PATHS = ("/_dash-update-component",)
_USER_CACHE_SECONDS = 5.0
_WINDOW_SECONDS = 300.0

F = TypeVar("F", bound=Callable[..., Any])


class SlidingWindowLimiter:
    """At most `limit` events per key in any `window` seconds (in this process; thread-safe)."""

    def __init__(self, limit: int, window: float = _WINDOW_SECONDS):
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def blocked(self, key: str) -> bool:
        """True if `key` has used up its events in the current window."""
        now = time.monotonic()
        with self._lock:
            return len(self._trim(key, now)) >= self.limit

    def hit(self, key: str) -> None:
        """Count one event for `key`."""
        now = time.monotonic()
        with self._lock:
            self._trim(key, now).append(now)
            if len(self._events) > 10_000:  # bounded memory under a spray of names or addresses
                for stale in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[stale]


class _State:
    """What install_security keeps per Flask server."""

    def __init__(self, warehouse: Path, production: bool):
        self.warehouse = warehouse
        self.production = production
        self.limits = UploadLimits.from_env()
        self.policy = LockoutPolicy.from_env()
        self.ip_limiter = SlidingWindowLimiter(int(os.environ.get("PILOT_ROI_SIGNIN_LIMIT_IP", "30")))
        self.user_limiter = SlidingWindowLimiter(int(os.environ.get("PILOT_ROI_SIGNIN_LIMIT_USER", "10")))
        self.unsafe_eval = os.environ.get("PILOT_ROI_CSP_UNSAFE_EVAL", "") == "1"
        self.sso: _Sso | None = None
        self.check_seconds = float(os.environ.get("PILOT_ROI_SESSION_CHECK_SECONDS", str(_USER_CACHE_SECONDS)))
        self._users: dict[str, tuple[float, User | None, str | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, username: str) -> tuple[User | None, str | None]:
        """The active user and their session fingerprint, cached for a few seconds."""
        now = time.monotonic()
        with self._lock:
            cached = self._users.get(username)
        if cached and cached[0] > now:
            return cached[1], cached[2]
        con = connect(self.warehouse)
        try:
            user = get_user(con, username)
            fingerprint = session_fingerprint(con, username) if user else None
        finally:
            con.close()
        with self._lock:
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[username] = (now + self.check_seconds, user, fingerprint)
        return user, fingerprint

    def forget(self, username: str) -> None:
        """Drop the cached lookup (after sign-in or sign-out)."""
        with self._lock:
            self._users.pop(username, None)


def _state() -> _State:
    return cast(_State, flask.current_app.extensions["pilot_roi_security"])


# ---------------------------------------------------------------------------------------------- public API


def current_user() -> User | None:
    """The signed-in user of the current request, or None (outside a request too)."""
    if not flask.has_request_context():
        return None
    if "pilot_roi_user" not in g:
        g.pilot_roi_user = _session_user()
    return cast(User | None, g.pilot_roi_user)


def remote_addr() -> str | None:
    """The client address of the current request (after ProxyFix, when proxies are configured)."""
    return request.remote_addr if flask.has_request_context() else None


def require(permission: str) -> User:
    """The current user if they have `permission`; else PermissionDenied, recorded in the audit log.

    Callbacks call it first, before reading input or touching the warehouse.
    """
    user = current_user()
    if user is not None and can(user, permission):
        return user
    _record_denial(user, permission)
    if user is None:
        raise PermissionDenied([Problem("auth.not_signed_in")])
    raise PermissionDenied([Problem("auth.forbidden", params={"role": user.role, "permission": permission})])


def requires(permission: str) -> Callable[[F], F]:
    """Decorator for plain Flask routes (downloads): `@requires("export")`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(permission)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def audit_event(action: str, target: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append an audit row for the current user and client address in its own short transaction."""
    user = current_user()
    con = connect(_state().warehouse)
    try:
        with transaction(con):
            audit.record(con, user.username if user else "anonymous", action, target, details, remote_addr())
    finally:
        con.close()


def install_security(server: flask.Flask, *, warehouse: Path, secret_key: str | None, production: bool) -> None:
    """Configure `server` (Dash's Flask app) for signed-in use only; see the module docstring.

    Raises PilotRoiError (`security.secret_key_missing`) in production without a secret key of at
    least 32 characters, from `secret_key` or PILOT_ROI_SECRET_KEY.
    """
    key = secret_key or os.environ.get("PILOT_ROI_SECRET_KEY") or ""
    if production and len(key) < 32:
        raise PilotRoiError([Problem("security.secret_key_missing")])
    if not key:
        key = secrets.token_hex(32)
        log.warning(
            "PILOT_ROI_SECRET_KEY is not set: using a key generated for this process (development only); "
            "sessions end when it stops and are not shared between workers"
        )
    state = _State(Path(warehouse), production)
    server.extensions["pilot_roi_security"] = state
    hours = float(os.environ.get("PILOT_ROI_SESSION_HOURS", "10"))
    server.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME="__Host-pilot_roi" if production else "pilot_roi_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=state.limits.max_request_bytes,
    )
    hops = int(os.environ.get("PILOT_ROI_PROXY_HOPS", "0"))
    if hops > 0:
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    server.add_url_rule(LOGIN_PATH, "pilot_roi_login", _login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "pilot_roi_logout", _logout, methods=["GET", "POST"])
    server.add_url_rule("/healthz", "pilot_roi_healthz", lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    # Browsers ask for it on the sign-in page; an empty answer keeps their console clean.
    server.add_url_rule("/favicon.ico", "pilot_roi_favicon", lambda: ("", 204))
    # Runs before Dash's own before_request hooks: registered first in the list Flask keeps.
    server.before_request_funcs.setdefault(None, []).insert(0, _guard)
    server.after_request(_headers)
    server.register_error_handler(PermissionDenied, _denied)
    server.register_error_handler(RequestEntityTooLarge, _too_large)
    state.sso = _install_sso(server)


# ---------------------------------------------------------------------------------------------- sessions


def _session_user() -> User | None:
    username = session.get("user")
    fingerprint = session.get("fp")
    issued = session.get("iat")
    if not isinstance(username, str) or not isinstance(fingerprint, str) or not isinstance(issued, int | float):
        return None
    lifetime = flask.current_app.permanent_session_lifetime.total_seconds()
    if time.time() - issued > lifetime:
        return None
    try:
        user, stored = _state().lookup(username)
    except WarehouseBusy:
        log.warning("warehouse busy while checking the session of %s", username)
        return None
    if user is None or stored is None or not hmac.compare_digest(stored, fingerprint):
        return None
    return user


def _csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    stored = session.get("csrf")
    return isinstance(stored, str) and bool(sent) and hmac.compare_digest(sent, stored)


def _lang() -> str:
    asked = request.args.get("lang", "")
    if asked in LANGS:
        session["lang"] = asked
        return asked
    kept = session.get("lang")
    if isinstance(kept, str) and kept in LANGS:
        return kept
    remembered = request.cookies.get(LANG_COOKIE)  # the language last chosen in the dashboard (a year-long cookie)
    if remembered in LANGS:
        return str(remembered)
    return request.accept_languages.best_match(LANGS) or "ru"


def _safe_next(target: str | None) -> str:
    """Only a local path: never another host (`//evil`, `/\\evil`, `https://...`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or target.startswith(LOGIN_PATH):
        return "/"
    if any(c in target for c in "\r\n\\") or len(target) > 512:
        return "/"
    return target


# ---------------------------------------------------------------------------------------------- guard


def _is_data_request() -> bool:
    path = request.path
    if path.startswith(DATA_PREFIXES) or request.method not in ("GET", "HEAD"):
        return True
    # Browsers navigating to a page name text/html explicitly; scripts send */* or application/json.
    return "text/html" not in request.headers.get("Accept", "")


def _refuse_anonymous() -> flask.Response:
    if _is_data_request():
        response = jsonify({"error": "unauthenticated", "message": t("auth.not_signed_in", _lang())})
        response.status_code = 401
        return response
    next_path = request.full_path if request.query_string else request.path
    return cast(flask.Response, redirect(f"{LOGIN_PATH}?next={_quote(next_path)}", code=302))


def _quote(path: str) -> str:
    return quote(path, safe="/")


def _same_origin() -> bool:
    """Browsers send Origin on cross-site POSTs; when present it must be this host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    # Host only: behind a TLS proxy without PILOT_ROI_PROXY_HOPS the scheme seen here is http.
    return urlsplit(origin).netloc == request.host


def _guard() -> flask.Response | None:
    state = _state()
    length = request.content_length
    if length is not None and length > state.limits.max_request_bytes:
        return _too_large(None)
    if request.path in PUBLIC_PATHS:
        return None
    user = current_user()
    if user is None:
        return _refuse_anonymous()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not _same_origin():
            response = jsonify({"error": "cross_origin"})
            response.status_code = 403
            return response
        if request.path.startswith(DASH_POST_PATHS) and not request.is_json:
            response = jsonify({"error": "bad_content_type"})
            response.status_code = 415
            return response
    return None


def _record_denial(user: User | None, permission: str) -> None:
    if flask.has_request_context() and g.get("pilot_roi_denial_recorded"):
        return
    try:
        if flask.has_request_context():
            g.pilot_roi_denial_recorded = True
            audit_event("access_denied", request.path, {"permission": permission})
    except PilotRoiError:
        log.warning("could not record a refused %s for %s", permission, user.username if user else "anonymous")


def _denied(exc: PermissionDenied) -> flask.Response:
    user = current_user()
    _record_denial(user, ",".join(p.key for p in exc.problems) or "?")
    lang = user.language if user else _lang()
    response = jsonify({"error": "forbidden", "messages": exc.render(lang)})
    response.status_code = 403 if user else 401
    return response


def _too_large(_exc: Exception | None) -> flask.Response:
    state = _state()
    mb = state.limits.max_upload_bytes / 1_048_576
    length = request.content_length or 0
    message = t("upload.too_large", _lang(), size=f"{length / 1_048_576:.1f}", limit=f"{mb:.0f}")
    response = jsonify({"error": "too_large", "message": message})
    response.status_code = 413
    response.headers["Connection"] = "close"  # the unread body must not be parsed as the next request
    return response


# ---------------------------------------------------------------------------------------------- headers

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)
_JS_TYPES = ("", "text/javascript", "application/javascript", "module")


def _inline_script_hashes(html: str) -> list[str]:
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if re.search(r"\bsrc\s*=", attrs, re.IGNORECASE):
            continue
        kind = re.search(r"\btype\s*=\s*[\"']?([^\"'\s>]+)", attrs, re.IGNORECASE)
        if kind and kind.group(1).lower() not in _JS_TYPES:
            continue  # JSON data blocks (Dash's config) are never executed
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return hashes


def _csp(script_hashes: list[str], unsafe_eval: bool) -> str:
    script = ["'self'", *script_hashes]
    if unsafe_eval:
        script.append("'unsafe-eval'")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(script)}",
            # Plotly and React set inline styles; styles cannot run code.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _headers(response: flask.Response) -> flask.Response:
    state = _state()
    hashes: list[str] = []
    if response.mimetype == "text/html" and not response.direct_passthrough:
        hashes = _inline_script_hashes(response.get_data(as_text=True))
    headers = response.headers
    headers["Content-Security-Policy"] = _csp(hashes, state.unsafe_eval)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if state.production:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not request.path.startswith(("/_dash-component-suites/", "/assets/")):
        headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------- pages

_LOGIN_PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: "DejaVu Sans", Arial, sans-serif; background: #f4f6f8; margin: 0; }
main { max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.3rem; margin-top: 0; }
label { display: block; margin: 1rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; padding: .5rem; box-sizing: border-box; }
button { margin-top: 1.2rem; width: 100%; padding: .6rem; background: #00539f; color: #fff; border: 0;
         border-radius: 4px; font-size: 1rem; }
.message { padding: .6rem; border-radius: 4px; margin-bottom: 1rem; }
.error { background: #fdecea; color: #8a1c13; }
.info { background: #e8f1fb; color: #0b3d6e; }
nav { margin-top: 1.2rem; text-align: center; font-size: .9rem; }
nav a { margin: 0 .4rem; color: #00539f; }
.or { text-align: center; color: #666; margin: 1rem 0 .5rem; }
a.sso { display: block; text-align: center; padding: .6rem; border: 1px solid #00539f; border-radius: 4px;
        color: #00539f; text-decoration: none; }
</style>
</head>
<body>
<main>
<h1>{{ title }}</h1>
{% if error %}<div class="message error" role="alert">{{ error }}</div>{% endif %}
{% if info %}<div class="message info" role="status">{{ info }}</div>{% endif %}
<form method="post" action="{{ action }}" autocomplete="on">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next_path }}">
<label for="username">{{ username_label }}</label>
<input type="text" id="username" name="username" value="{{ username }}" autocomplete="username" required
       maxlength="64" autofocus>
<label for="password">{{ password_label }}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">{{ submit }}</button>
</form>
{% if sso_label %}<p class="or">{{ or_word }}</p>
<a class="sso" href="{{ sso_path }}?next={{ next_quoted }}">{{ sso_label }}</a>{% endif %}
<nav>{% for code, name in langs %}<a href="{{ login_path }}?lang={{ code }}&amp;next={{ next_quoted }}"
 hreflang="{{ code }}">{{ name }}</a>{% endfor %}</nav>
</main>
</body>
</html>
"""

_LANG_NAMES = (("ru", "Русский"), ("kk", "Қазақша"), ("en", "English"))


def _render_login(status: int = 200, *, error: str = "", info: str = "", username: str = "") -> flask.Response:
    lang = _lang()
    next_path = _safe_next(request.values.get("next"))
    html = render_template_string(
        _LOGIN_PAGE,
        lang=lang,
        title=t("security.sign_in_title", lang),
        error=error,
        info=info,
        csrf=_csrf_token(),
        next_path=next_path,
        next_quoted=_quote(next_path),
        action=LOGIN_PATH,
        login_path=LOGIN_PATH,
        username=username,
        username_label=t("security.username", lang),
        password_label=t("security.password", lang),
        submit=t("security.sign_in", lang),
        langs=_LANG_NAMES,
        sso_label=t("security.sso_button", lang, provider=sso.label) if (sso := _state().sso) else "",
        sso_path=SSO_PATH,
        or_word=t("security.or", lang),
    )
    response = flask.make_response(html, status)
    response.mimetype = "text/html"
    return response


def _login() -> flask.Response:
    if request.method == "GET":
        info = t("security.signed_out", _lang()) if request.args.get("signed_out") else ""
        return _render_login(info=info)
    lang = _lang()
    state = _state()
    username = normalise_username(request.form.get("username", ""))[:64]
    password = request.form.get("password", "")
    if not _csrf_ok():
        return _render_login(400, error=t("security.session_expired", lang), username=username)
    address = request.remote_addr or "?"
    if state.ip_limiter.blocked(address) or state.user_limiter.blocked(username):
        log.warning("sign-in rate limit reached for %s / %s", address, username)
        return _render_login(429, error=t("auth.rate_limited", lang), username=username)
    try:
        con = connect(state.warehouse)
    except WarehouseBusy:
        return _render_login(503, error=t("security.busy", lang), username=username)
    try:
        user = authenticate(con, username, password, address, policy=state.policy)
        fingerprint = session_fingerprint(con, user.username)
    except AuthenticationFailed as exc:
        state.ip_limiter.hit(address)
        state.user_limiter.hit(username)
        status = 423 if exc.key == "auth.locked" else 401
        return _render_login(status, error=exc.render(lang)[0], username=username)
    except WarehouseBusy:
        return _render_login(503, error=t("security.busy", lang), username=username)
    finally:
        con.close()
    next_path = _safe_next(request.form.get("next"))
    _start_session(user, fingerprint)
    return cast(flask.Response, redirect(next_path, code=303))


def _start_session(user: User, fingerprint: str | None) -> None:
    _state().forget(user.username)
    session.clear()  # a fresh session: nothing set before sign-in survives it
    session.permanent = True
    session["user"] = user.username
    session["fp"] = fingerprint or ""
    session["iat"] = int(time.time())
    session["lang"] = user.language
    session["csrf"] = secrets.token_urlsafe(32)
    g.pilot_roi_user = user


def _logout() -> flask.Response:
    user = current_user()
    if user is not None:
        try:
            audit_event("sign_out", user.username)
        except PilotRoiError:
            log.warning("could not record the sign-out of %s", user.username)
        _state().forget(user.username)
    lang = session.get("lang")
    session.clear()
    target = f"{LOGIN_PATH}?signed_out=1" + (f"&lang={lang}" if isinstance(lang, str) and lang in LANGS else "")
    return cast(flask.Response, redirect(target, code=303))


# ---------------------------------------------------------------------------------------------- single sign-on


class _Sso:
    """The OpenID Connect client (Authlib) and what to read from the provider's ID token."""

    def __init__(self, client: Any, label: str, username_claim: str, redirect_uri: str | None):
        self.client = client
        self.label = label
        self.username_claim = username_claim
        self.redirect_uri = redirect_uri


def _install_sso(server: flask.Flask) -> _Sso | None:
    issuer = os.environ.get("PILOT_ROI_OIDC_ISSUER", "").rstrip("/")
    if not issuer:
        return None
    from authlib.integrations.flask_client import OAuth  # optional dependency: only with SSO configured

    oauth = OAuth(server)
    client = oauth.register(
        "pilot_roi_oidc",
        client_id=os.environ.get("PILOT_ROI_OIDC_CLIENT_ID"),
        client_secret=os.environ.get("PILOT_ROI_OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": os.environ.get("PILOT_ROI_OIDC_SCOPES", "openid profile email")},
    )
    server.add_url_rule(SSO_PATH, "pilot_roi_sso", _sso_start)
    server.add_url_rule(SSO_CALLBACK_PATH, "pilot_roi_sso_callback", _sso_callback)
    return _Sso(
        client,
        os.environ.get("PILOT_ROI_OIDC_LABEL", "SSO"),
        os.environ.get("PILOT_ROI_OIDC_USERNAME_CLAIM", "preferred_username"),
        os.environ.get("PILOT_ROI_OIDC_REDIRECT_URI") or None,
    )


def _sso_start() -> flask.Response:
    sso = _state().sso
    if sso is None:
        return cast(flask.Response, redirect(LOGIN_PATH))
    session["sso_next"] = _safe_next(request.args.get("next"))
    redirect_uri = sso.redirect_uri or flask.url_for("pilot_roi_sso_callback", _external=True)
    try:
        return cast(flask.Response, sso.client.authorize_redirect(redirect_uri))
    except Exception:  # the provider is unreachable or its metadata is wrong: say so, log the detail
        log.exception("single sign-on could not start")
        return _render_login(502, error=t("security.sso_failed", _lang()))


def _sso_callback() -> flask.Response:
    state = _state()
    sso = state.sso
    lang = _lang()
    if sso is None:
        return cast(flask.Response, redirect(LOGIN_PATH))
    try:
        token = sso.client.authorize_access_token()  # checks state, then the ID token's signature, iss, aud, nonce
        claims = token.get("userinfo") or {}
    except Exception:  # a forged or replayed answer, or a provider error: refuse, never show the detail
        log.warning("single sign-on answer refused", exc_info=True)
        return _render_login(401, error=t("security.sso_failed", lang))
    username = str(claims.get(sso.username_claim) or "")
    address = request.remote_addr or "?"
    try:
        con = connect(state.warehouse)
    except WarehouseBusy:
        return _render_login(503, error=t("security.busy", lang))
    try:
        user = sign_in_external(con, username, address, method="oidc", subject=str(claims.get("sub") or ""))
        fingerprint = session_fingerprint(con, user.username)
    except AuthenticationFailed as exc:
        return _render_login(403, error=exc.render(lang)[0])
    finally:
        con.close()
    next_path = _safe_next(session.get("sso_next"))
    _start_session(user, fingerprint)
    return cast(flask.Response, redirect(next_path, code=303))
