"""Single sign-on (OpenID Connect) against a small identity provider that runs here, over real HTTP.

The provider (discovery, authorize, token, JWKS; RS256 ID tokens) and the app (tests/security/
app_under_test.py with install_security) both run on werkzeug servers in threads on 127.0.0.1, and a
`requests` session plays the browser following the redirects.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import duckdb
import flask
import pytest
import requests
from security_fixtures import copy_template
from werkzeug.serving import make_server

pytest.importorskip("authlib")
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "pilot-roi"
CLIENT_SECRET = "s3cret-client"
_KEYS = tuple(RSAKey.generate_key(2048, parameters={"kid": "k1"}) for _ in range(2))


class Provider:
    """A minimal OpenID provider: it signs in whoever `next_user` names, with an honest or a forged token."""

    def __init__(self) -> None:
        self.key, self.rogue_key = _KEYS
        self.next_user = "exec"
        self.forge = False
        self.codes: dict[str, dict[str, Any]] = {}
        self.url = ""
        app = flask.Flask("idp")
        app.add_url_rule("/.well-known/openid-configuration", "meta", self.meta)
        app.add_url_rule("/authorize", "authorize", self.authorize)
        app.add_url_rule("/token", "token", self.token, methods=["POST"])
        app.add_url_rule("/jwks", "jwks", self.jwks)
        self.app = app

    def meta(self) -> flask.Response:
        return flask.jsonify(
            issuer=self.url,
            authorization_endpoint=f"{self.url}/authorize",
            token_endpoint=f"{self.url}/token",
            jwks_uri=f"{self.url}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
        )

    def authorize(self) -> flask.Response:
        args = flask.request.args
        assert args["client_id"] == CLIENT_ID
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": args.get("nonce"), "user": self.next_user, "redirect_uri": args["redirect_uri"]}
        return flask.redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

    def token(self) -> flask.Response:
        auth = flask.request.authorization
        assert auth is not None and (auth.username, auth.password) == (CLIENT_ID, CLIENT_SECRET)
        grant = self.codes.pop(flask.request.form["code"])
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"sub-{grant['user']}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "preferred_username": grant["user"],
        }
        key = self.rogue_key if self.forge else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return flask.jsonify(access_token="at", token_type="Bearer", expires_in=300, id_token=id_token)

    def jwks(self) -> flask.Response:
        return flask.jsonify(keys=[self.key.as_dict(private=False)])


def _serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory, _template_warehouse: Path) -> Iterator[tuple[Provider, str, Path]]:
    warehouse = copy_template(_template_warehouse, tmp_path_factory.mktemp("sso") / "wh.duckdb")
    provider = Provider()
    idp_server, provider.url = _serve(provider.app)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PILOT_ROI_WAREHOUSE", str(warehouse))
        env.setenv("PILOT_ROI_OIDC_ISSUER", provider.url)
        env.setenv("PILOT_ROI_OIDC_CLIENT_ID", CLIENT_ID)
        env.setenv("PILOT_ROI_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        env.setenv("PILOT_ROI_OIDC_LABEL", "Keycloak")
        env.setenv("PILOT_ROI_SESSION_CHECK_SECONDS", "0")
        from app_under_test import make

        app_server, url = _serve(make())
    try:
        yield provider, url, warehouse
    finally:
        app_server.shutdown()
        idp_server.shutdown()


@pytest.fixture(autouse=True)
def _honest_provider(sso: tuple[Provider, str, Path]) -> None:
    sso[0].forge = False


def _audit(warehouse: Path, action: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse))  # same process as the app: the same database instance
    try:
        return con.execute(
            "SELECT username, details FROM audit_log WHERE action = ? ORDER BY event_id", [action]
        ).fetchall()
    finally:
        con.close()


def test_sign_in_page_offers_sso(sso: tuple[Provider, str, Path]) -> None:
    _provider, url, _wh = sso
    page = requests.get(f"{url}/login?lang=kk", timeout=10)
    assert "Keycloak арқылы кіру" in page.text
    assert 'href="/login/sso?next=' in page.text


def test_sso_signs_in_the_local_account_with_its_role(sso: tuple[Provider, str, Path]) -> None:
    provider, url, warehouse = sso
    provider.next_user = "eng_kmg"
    browser = requests.Session()
    response = browser.get(f"{url}/login/sso?next=/pilots", timeout=20)  # follows IdP and callback redirects
    assert urlsplit(response.url).path == "/pilots" or response.history[-1].headers["Location"] == "/pilots"
    callback = browser.post(
        f"{url}/_dash-update-component",
        json={
            "output": "who-out.children",
            "outputs": {"id": "who-out", "property": "children"},
            "inputs": [{"id": "who-in", "property": "value", "value": "sso"}],
            "changedPropIds": ["who-in.value"],
            "state": [],
        },
        timeout=10,
    )
    assert "eng_kmg:engineer:sso" in callback.text
    rows = _audit(warehouse, "sign_in")
    assert rows[-1][0] == "eng_kmg"
    assert json.loads(rows[-1][1])["method"] == "oidc"


def test_sso_user_without_local_account_is_refused(sso: tuple[Provider, str, Path]) -> None:
    provider, url, warehouse = sso
    provider.next_user = "stranger"
    browser = requests.Session()
    response = browser.get(f"{url}/login/sso", timeout=20)
    assert response.status_code == 403
    assert "stranger" in response.text
    assert browser.get(f"{url}/_dash-layout", timeout=10).status_code == 401
    failed = _audit(warehouse, "sign_in_failed")
    assert failed[-1][0] == "stranger"
    assert json.loads(failed[-1][1])["reason"] == "unknown_user"


def test_forged_id_token_is_refused(sso: tuple[Provider, str, Path]) -> None:
    provider, url, _wh = sso
    provider.forge = True  # signed by a key the provider never published
    browser = requests.Session()
    response = browser.get(f"{url}/login/sso", timeout=20)
    assert response.status_code == 401
    assert browser.get(f"{url}/_dash-layout", timeout=10).status_code == 401


def test_callback_without_a_started_sign_in_is_refused(sso: tuple[Provider, str, Path]) -> None:
    _provider, url, _wh = sso
    response = requests.get(f"{url}/login/sso/callback", params={"code": "x", "state": "y"}, timeout=10)
    assert response.status_code == 401
    assert parse_qs(urlsplit(response.url).query) == {"code": ["x"], "state": ["y"]}
