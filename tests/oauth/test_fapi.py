"""FAPI 2.0: pushed authorization requests (RFC 9126), DPoP (RFC 9449), the issuer in every
authorization response (RFC 9207), private_key_jwt (RFC 7523) and the FAPI 2.0 client profile."""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from spiko.db.models.fapi import OAuthPushedRequest
from spiko.db.types import utcnow
from tests.oauth.conftest import ISSUER
from tests.oauth.fapi_helpers import (
    PAR_PATH,
    TOKEN_PATH,
    DPoPKey,
    authorization_params,
    consent_to,
    dpop_nonce,
    push,
    pushed_path,
    register_keyed_app,
)
from tests.oauth.helpers import authorize_path, bearer, decide, exchange, obtain_code, redirect_params

ME = "/v1/investors/me"


def _code_via_par(browser, client, app, auth, *, headers=None, **params):  # type: ignore[no-untyped-def]
    query, state, verifier = authorization_params(app, **params)
    pushed = push(client, query, auth, headers)
    assert pushed.status_code == 201, pushed.text
    answer = consent_to(browser, pushed_path(app.client_id, pushed.json()["request_uri"]))
    assert answer["state"] == state and answer["iss"] == ISSUER, answer
    return answer["code"], verifier, pushed.json()["request_uri"]


def _dpop_exchange(client, app, auth, code, verifier, key, nonce):  # type: ignore[no-untyped-def]
    proof = key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    data["code_verifier"] = verifier
    form = {**data, **{k: v for k, v in auth.items() if k != "Authorization"}}
    headers = {"DPoP": proof, **{k: v for k, v in auth.items() if k == "Authorization"}}
    return client.post(TOKEN_PATH, data=form, headers=headers)


def _dpop_get(client, path, token, key, nonce, **proof):  # type: ignore[no-untyped-def]
    proof_value = key.proof("GET", ISSUER + path, access_token=token, nonce=nonce, **proof)
    return client.get(path, headers={"Authorization": f"DPoP {token}", "DPoP": proof_value})


@pytest.fixture
def bound(browser, client, app_client):  # type: ignore[no-untyped-def]
    """A DPoP-bound token pair of a confidential client, its key and the server's nonce."""
    key = DPoPKey()
    nonce = dpop_nonce(client, ISSUER, key, app_client)
    code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
    response = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, nonce)
    assert response.status_code == 200, response.text
    return response.json(), key, nonce


class TestDiscovery:
    def test_the_fapi_parts_are_advertised(self, client):
        for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            body = client.get(path).json()
            assert body["pushed_authorization_request_endpoint"] == ISSUER + PAR_PATH
            assert body["require_pushed_authorization_requests"] is False
            assert {"ES256", "PS256"} <= set(body["dpop_signing_alg_values_supported"])
            assert body["authorization_response_iss_parameter_supported"] is True
            assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
            assert {"ES256", "PS256"} <= set(body["token_endpoint_auth_signing_alg_values_supported"])
        signing = client.get("/.well-known/openid-configuration").json()[
            "id_token_signing_alg_values_supported"
        ]
        assert set(signing) == {"RS256", "ES256", "PS256"}

    def test_the_server_wide_switch_is_advertised(self, client_with):
        strict = client_with(base_url="http://testserver", require_pushed_authorization_requests=True)
        body = strict.get("/.well-known/openid-configuration").json()
        assert body["require_pushed_authorization_requests"] is True


class TestIssuerInResponses:
    def test_a_code_carries_the_issuer(self, browser, app_client):
        answer = redirect_params(decide(browser, authorize_path(app_client)))
        assert answer["iss"] == ISSUER and "code" in answer

    def test_a_refusal_and_an_error_carry_it_too(self, browser, app_client):
        denied = redirect_params(decide(browser, authorize_path(app_client, scope="offline openid"), "deny"))
        assert denied["error"] == "access_denied" and denied["iss"] == ISSUER
        bad_scope = redirect_params(
            browser.get(authorize_path(app_client, scope="admin"), follow_redirects=False)
        )
        assert bad_scope["error"] == "invalid_scope" and bad_scope["iss"] == ISSUER


class TestPushedAuthorizationRequests:
    def test_a_pushed_request_yields_a_code_once(self, browser, client, app_client):
        code, verifier, request_uri = _code_via_par(browser, client, app_client, app_client.basic)
        assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
        response = exchange(client, app_client, code, code_verifier=verifier)
        assert response.status_code == 200, response.text
        again = browser.get(pushed_path(app_client.client_id, request_uri), follow_redirects=False)
        assert again.status_code == 400 and "invalid_request_uri" in again.text
        assert "location" not in again.headers

    def test_the_answer_is_201_with_a_short_life(self, client, app_client):
        query, _, _ = authorization_params(app_client)
        pushed = push(client, query, app_client.basic)
        assert pushed.status_code == 201
        assert pushed.json()["expires_in"] == 60 and pushed.headers["cache-control"] == "no-store"

    def test_the_client_must_authenticate(self, client, app_client):
        query, _, _ = authorization_params(app_client)
        assert push(client, query, {}).status_code == 401
        wrong = {**app_client.basic}
        wrong["Authorization"] = "Basic " + "c3BvX3g6c3BzX3k="  # spo_x:sps_y
        assert push(client, query, wrong).json()["error"] == "invalid_client"

    def test_a_bad_request_is_refused_at_the_push(self, client, app_client):
        for params, error in (
            ({"redirect_uri": "https://elsewhere.example/cb"}, "invalid_request"),
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
            ({"scope": "admin"}, "invalid_scope"),
        ):
            query, _, _ = authorization_params(app_client, **params)
            answer = push(client, query, app_client.basic)
            assert answer.status_code == 400, (params, answer.text)
            assert answer.json()["error"] == error, (params, answer.text)

    def test_an_expired_request_uri_is_refused(self, ctx, browser, client, app_client):
        query, _, _ = authorization_params(app_client)
        request_uri = push(client, query, app_client.basic).json()["request_uri"]
        with ctx.transaction() as session:
            session.execute(update(OAuthPushedRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
        answer = browser.get(pushed_path(app_client.client_id, request_uri), follow_redirects=False)
        assert answer.status_code == 400 and "invalid_request_uri" in answer.text

    def test_another_clients_request_uri_is_refused(self, ctx, browser, client, app_client, public_app):
        query, _, _ = authorization_params(app_client)
        request_uri = push(client, query, app_client.basic).json()["request_uri"]
        answer = browser.get(pushed_path(public_app.client_id, request_uri), follow_redirects=False)
        assert answer.status_code == 400 and "invalid_request_uri" in answer.text
        unknown = browser.get(pushed_path(app_client.client_id, request_uri + "x"), follow_redirects=False)
        assert unknown.status_code == 400 and "invalid_request_uri" in unknown.text

    def test_the_parameters_in_the_browser_are_ignored(self, browser, client, app_client):
        query, state, _ = authorization_params(app_client)
        request_uri = push(client, query, app_client.basic).json()["request_uri"]
        path = pushed_path(app_client.client_id, request_uri) + "&state=tampered-state-value"
        answer = consent_to(browser, path)
        assert answer["state"] == state

    def test_a_client_registered_for_par_cannot_skip_it(self, ctx, browser, client):
        app = register_keyed_app(ctx, require_par=True)
        answer = redirect_params(browser.get(authorize_path(app), follow_redirects=False))
        assert answer["error"] == "invalid_request" and answer["iss"] == ISSUER

    def test_the_server_wide_switch_refuses_plain_requests(self, client_with, investor, app_client):
        from tests.oauth.helpers import sign_in

        strict = client_with(base_url="http://testserver", require_pushed_authorization_requests=True)
        sign_in(strict, investor.email, investor.password)
        answer = redirect_params(strict.get(authorize_path(app_client), follow_redirects=False))
        assert answer["error"] == "invalid_request"
        code, _, _ = _code_via_par(strict, strict, app_client, app_client.basic)
        assert code


class TestPushedRequestLimitsAndPurge:
    def test_pushes_are_limited_per_client(self, ctx, client_with, app_client):
        other = register_keyed_app(ctx)
        limited = client_with(base_url="http://testserver", par_requests_per_client=3)
        query, _, _ = authorization_params(app_client)
        statuses = [push(limited, query, app_client.basic).status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        refused = push(limited, query, app_client.basic)
        assert refused.json()["error"] == "temporarily_unavailable"
        assert int(refused.headers["retry-after"]) >= 1 and refused.headers["cache-control"] == "no-store"
        other_query, _, _ = authorization_params(other)
        assert push(limited, other_query, other.auth_form()).status_code == 201, "each client its own"

    def test_pushes_are_limited_per_address(self, ctx, client_with):
        apps = [register_keyed_app(ctx, name=f"App {n}") for n in range(3)]
        limited = client_with(base_url="http://testserver", par_requests_per_address=2)
        answers = [push(limited, authorization_params(a)[0], a.auth_form()).status_code for a in apps]
        assert answers == [201, 201, 429]

    def test_failed_authentications_are_limited_per_client_and_address(self, client_with, app_client):
        limited = client_with(base_url="http://testserver", token_failures_per_client_and_address=2)
        query, _, _ = authorization_params(app_client)
        wrong = {"Authorization": "Basic " + base64.b64encode(f"{app_client.client_id}:x".encode()).decode()}
        assert [push(limited, query, wrong).status_code for _ in range(3)] == [401, 401, 429]
        assert push(limited, query, app_client.basic).status_code == 429, "a guesser's address waits"

    def test_pushed_requests_that_can_no_longer_be_used_are_deleted(
        self, ctx, browser, client, client_with, app_client
    ):
        from sqlalchemy import select

        def pushed() -> str:
            return str(
                push(client, authorization_params(app_client)[0], app_client.basic).json()["request_uri"]
            )

        def hashes() -> set[str]:
            with ctx.transaction(write=False) as session:
                return set(session.scalars(select(OAuthPushedRequest.request_uri_hash)))

        from spiko.auth.secrets import sha256_hex

        expired, opened_long_ago, opened_now, fresh = (pushed() for _ in range(4))
        code_ttl = ctx.settings.authorization_code_ttl_seconds
        with ctx.transaction() as session:
            for request_uri, values in (
                (expired, {"expires_at": utcnow() - timedelta(seconds=1)}),
                (opened_long_ago, {"opened_at": utcnow() - timedelta(seconds=code_ttl + 1)}),
                (opened_now, {"opened_at": utcnow(), "expires_at": utcnow() - timedelta(seconds=1)}),
            ):
                session.execute(
                    update(OAuthPushedRequest)
                    .where(OAuthPushedRequest.request_uri_hash == sha256_hex(request_uri))
                    .values(**values)
                )
        worker = client_with(base_url="http://testserver")  # a process that has not purged yet
        latest = push(worker, authorization_params(app_client)[0], app_client.basic).json()["request_uri"]
        left = hashes()
        assert sha256_hex(expired) not in left and sha256_hex(opened_long_ago) not in left
        assert {sha256_hex(u) for u in (opened_now, fresh, latest)} <= left
        code = consent_to(browser, pushed_path(app_client.client_id, fresh))["code"]
        assert code, "a request that can still be used still works"


class TestDPoPAtTheTokenEndpoint:
    def test_the_server_asks_for_its_nonce_then_binds_the_tokens(self, ctx, browser, client, app_client):
        key = DPoPKey()
        code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
        first = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, None)
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
        nonce = first.headers["DPoP-Nonce"]
        second = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, nonce)
        assert second.status_code == 200, second.text
        assert second.json()["token_type"] == "DPoP"
        introspected = client.post(
            "/oauth2/introspect", data={"token": second.json()["access_token"]}, headers=app_client.basic
        ).json()
        assert introspected["cnf"] == {"jkt": key.jkt} and introspected["token_type"] == "DPoP"
        refresh_view = client.post(
            "/oauth2/introspect", data={"token": second.json()["refresh_token"]}, headers=app_client.basic
        ).json()
        assert refresh_view["cnf"] == {"jkt": key.jkt}

    @pytest.mark.parametrize(
        "how",
        ["wrong htu", "wrong htm", "stale iat", "future iat", "wrong nonce", "not a dpop jwt"],
    )
    def test_bad_proofs_are_refused(self, browser, client, app_client, how):
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
        url, method, kwargs = ISSUER + TOKEN_PATH, "POST", {"nonce": nonce}
        if how == "wrong htu":
            url = ISSUER + "/oauth2/other"
        elif how == "wrong htm":
            method = "GET"
        elif how == "stale iat":
            kwargs["iat"] = time.time() - 3600
        elif how == "future iat":
            kwargs["iat"] = time.time() + 3600
        elif how == "wrong nonce":
            kwargs["nonce"] = "not-the-servers-nonce"
        elif how == "not a dpop jwt":
            kwargs["typ"] = "JWT"
        proof = key.proof(method, url, **kwargs)
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app_client.redirect_uri}
        response = client.post(
            TOKEN_PATH, data={**data, "code_verifier": verifier}, headers={"DPoP": proof, **app_client.basic}
        )
        expected = "use_dpop_nonce" if how == "wrong nonce" else "invalid_dpop_proof"
        assert response.status_code == 400 and response.json()["error"] == expected, response.text
        honest = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, nonce)
        assert honest.status_code == 200, "a refused proof does not use the code up"

    def test_a_replayed_proof_is_refused(self, browser, client, app_client):
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
        proof = key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app_client.redirect_uri}
        first = client.post(
            TOKEN_PATH, data={**data, "code_verifier": verifier}, headers={"DPoP": proof, **app_client.basic}
        )
        assert first.status_code == 200, first.text
        again = client.post(
            TOKEN_PATH,
            data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
            headers={"DPoP": proof, **app_client.basic},
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_dpop_proof"
        assert "already used" in again.json()["error_description"]

    def test_two_proofs_are_refused(self, browser, client, app_client):
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        code, verifier, _ = _code_via_par(browser, client, app_client, app_client.basic)
        proof = key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app_client.redirect_uri}
        response = client.post(
            TOKEN_PATH,
            data={**data, "code_verifier": verifier},
            headers=[("DPoP", proof), ("DPoP", proof), *app_client.basic.items()],
        )
        assert response.json()["error"] == "invalid_dpop_proof"

    def test_refresh_needs_the_same_key(self, client, app_client, bound):
        tokens, key, nonce = bound
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        thief = DPoPKey()
        stolen = client.post(
            TOKEN_PATH,
            data=data,
            headers={"DPoP": thief.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce), **app_client.basic},
        )
        assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof"
        bare = client.post(TOKEN_PATH, data=data, headers=app_client.basic)
        assert bare.status_code == 400 and bare.json()["error"] == "invalid_dpop_proof"
        owner = client.post(
            TOKEN_PATH,
            data=data,
            headers={"DPoP": key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce), **app_client.basic},
        )
        assert owner.status_code == 200, owner.text
        assert owner.json()["token_type"] == "DPoP"
        assert _dpop_get(client, ME, owner.json()["access_token"], key, nonce).status_code == 200

    def test_a_code_pushed_with_a_key_needs_that_key(self, browser, client, app_client):
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        par_proof = key.proof("POST", ISSUER + PAR_PATH, nonce=nonce)
        code, verifier, _ = _code_via_par(
            browser, client, app_client, app_client.basic, headers={"DPoP": par_proof}
        )
        other = _dpop_exchange(client, app_client, app_client.basic, code, verifier, DPoPKey(), nonce)
        assert other.status_code == 400 and other.json()["error"] == "invalid_dpop_proof"
        plain = exchange(client, app_client, code, code_verifier=verifier)
        assert plain.status_code == 400 and plain.json()["error"] == "invalid_dpop_proof"
        owner = _dpop_exchange(client, app_client, app_client.basic, code, verifier, key, nonce)
        assert owner.status_code == 200 and owner.json()["token_type"] == "DPoP"

    def test_a_dpop_only_client_must_send_a_proof(self, ctx, browser, client):
        app = register_keyed_app(ctx, dpop_only=True)
        query, _, verifier = authorization_params(app)
        request_uri = push(client, query, app.auth_form()).json()["request_uri"]
        code = consent_to(browser, pushed_path(app.client_id, request_uri))["code"]
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        response = client.post(TOKEN_PATH, data={**data, "code_verifier": verifier, **app.auth_form()})
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"

    def test_unbound_clients_keep_bearer_tokens(self, browser, client, app_client):
        code = obtain_code(browser, app_client)
        tokens = exchange(client, app_client, code).json()
        assert tokens["token_type"] == "Bearer"
        assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
        introspected = client.post(
            "/oauth2/introspect", data={"token": tokens["access_token"]}, headers=app_client.basic
        ).json()
        assert "cnf" not in introspected


class TestDPoPOnResources:
    def test_a_bound_token_works_with_its_proof_only(self, client, investor, bound):
        tokens, key, nonce = bound
        token = tokens["access_token"]
        ok = _dpop_get(client, ME, token, key, nonce)
        assert ok.status_code == 200 and ok.json()["id"] == investor.investor_id
        as_bearer = client.get(ME, headers=bearer(token))
        assert as_bearer.status_code == 401
        assert as_bearer.json()["_tag"] == "InvestorAuthenticationError"
        no_proof = client.get(ME, headers={"Authorization": f"DPoP {token}"})
        assert no_proof.status_code == 401 and no_proof.headers["www-authenticate"].startswith("DPoP ")

    @pytest.mark.parametrize(
        "how",
        ["replayed", "wrong htu", "wrong method", "stale iat", "missing nonce", "other key", "other ath"],
    )
    def test_bad_proofs_are_refused(self, client, bound, how):
        tokens, key, nonce = bound
        token = tokens["access_token"]
        proof_kwargs: dict = {"access_token": token, "nonce": nonce}
        url, method, signer = ISSUER + ME, "GET", key
        if how == "wrong htu":
            url = ISSUER + "/v1/accounts"
        elif how == "wrong method":
            method = "POST"
        elif how == "stale iat":
            proof_kwargs["iat"] = time.time() - 3600
        elif how == "missing nonce":
            proof_kwargs["nonce"] = None
        elif how == "other key":
            signer = DPoPKey()
        elif how == "other ath":
            proof_kwargs["access_token"] = "spa_another_token"
        proof = signer.proof(method, url, **proof_kwargs)
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
        if how == "replayed":
            assert client.get(ME, headers=headers).status_code == 200
        response = client.get(ME, headers=headers)
        assert response.status_code == 401, how
        challenge = response.headers["www-authenticate"]
        if how == "missing nonce":
            assert 'error="use_dpop_nonce"' in challenge and response.headers["DPoP-Nonce"] == nonce
        else:
            assert challenge.startswith("DPoP ") and "error=" in challenge

    def test_an_unbound_token_is_not_accepted_as_dpop(self, browser, client, app_client):
        tokens = exchange(client, app_client, obtain_code(browser, app_client)).json()
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app_client)
        assert _dpop_get(client, ME, tokens["access_token"], key, nonce).status_code == 401

    def test_userinfo_needs_the_proof_too(self, client, bound):
        tokens, key, nonce = bound
        token = tokens["access_token"]
        assert client.get("/userinfo", headers=bearer(token)).status_code == 401
        assert client.get("/userinfo", headers={"Authorization": f"DPoP {token}"}).status_code == 401
        ok = _dpop_get(client, "/userinfo", token, key, nonce)
        assert ok.status_code == 200 and ok.json()["sub"]


class TestPrivateKeyJwt:
    def _code(self, ctx, browser, client, app):  # type: ignore[no-untyped-def]
        query, _, verifier = authorization_params(app)
        request_uri = push(client, query, app.auth_form()).json()["request_uri"]
        return consent_to(browser, pushed_path(app.client_id, request_uri))["code"], verifier

    def _redeem(self, client, app, code, verifier, **assertion):  # type: ignore[no-untyped-def]
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        return client.post(TOKEN_PATH, data={**data, "code_verifier": verifier, **app.auth_form(**assertion)})

    def test_a_signed_assertion_authenticates_the_client(self, ctx, browser, client):
        app = register_keyed_app(ctx)
        code, verifier = self._code(ctx, browser, client, app)
        response = self._redeem(client, app, code, verifier, aud=ISSUER + TOKEN_PATH)
        assert response.status_code == 200, response.text

    def test_wrong_audience_replayed_jti_and_no_secret_are_refused(self, ctx, browser, client):
        app = register_keyed_app(ctx)
        code, verifier = self._code(ctx, browser, client, app)
        wrong_aud = self._redeem(client, app, code, verifier, aud="https://another.example")
        assert wrong_aud.status_code in (400, 401) and wrong_aud.json()["error"] == "invalid_client"
        jti = "assertion-jti-0001"
        first = self._redeem(client, app, code, verifier, jti=jti)
        assert first.status_code == 200, first.text
        replayed = self._redeem(client, app, code, verifier, jti=jti)
        assert replayed.status_code in (400, 401) and replayed.json()["error"] == "invalid_client"
        too_long = self._redeem(client, app, code, verifier, lifetime=3600)
        assert too_long.json()["error"] == "invalid_client"
        as_secret = client.post(
            TOKEN_PATH,
            data={
                "grant_type": "refresh_token",
                "refresh_token": "x",
                "client_id": app.client_id,
                "client_secret": "sps_guess",
            },
        )
        assert as_secret.status_code in (400, 401) and as_secret.json()["error"] == "invalid_client"

    def test_a_key_the_client_did_not_register_is_refused(self, ctx, browser, client):
        from tests.oauth.fapi_helpers import client_key

        app = register_keyed_app(ctx)
        code, verifier = self._code(ctx, browser, client, app)
        app.key = client_key()
        assert self._redeem(client, app, code, verifier).json()["error"] == "invalid_client"


class TestFapiProfile:
    def test_the_whole_profile(self, ctx, browser, client):
        app = register_keyed_app(ctx, fapi=True)
        plain = redirect_params(browser.get(authorize_path(app), follow_redirects=False))
        assert plain["error"] == "invalid_request" and plain["iss"] == ISSUER
        no_pkce, _, _ = authorization_params(app, code_challenge=None, code_challenge_method=None)
        assert push(client, no_pkce, app.auth_form()).json()["error"] == "invalid_request"
        plain_pkce, _, _ = authorization_params(app, code_challenge_method="plain")
        assert push(client, plain_pkce, app.auth_form()).json()["error"] == "invalid_request"
        basic_secretless = push(client, authorization_params(app)[0], {"Authorization": "Basic eDp5"})
        assert basic_secretless.status_code == 401

        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app)
        query, _, verifier = authorization_params(app)
        request_uri = push(client, query, app.auth_form()).json()["request_uri"]
        code = consent_to(browser, pushed_path(app.client_id, request_uri))["code"]
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        without_dpop = client.post(TOKEN_PATH, data={**data, "code_verifier": verifier, **app.auth_form()})
        assert without_dpop.json()["error"] == "invalid_request"
        tokens = client.post(
            TOKEN_PATH,
            data={**data, "code_verifier": verifier, **app.auth_form()},
            headers={"DPoP": key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)},
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        assert body["token_type"] == "DPoP"
        decoded = jwt.decode(
            body["id_token"],
            KeySet.import_key_set(client.get("/.well-known/jwks.json").json()),
            algorithms=["ES256"],
        )
        assert decoded.header["alg"] == "ES256" and decoded.claims["aud"] == app.client_id
        assert _dpop_get(client, ME, body["access_token"], key, nonce).status_code == 200


class TestIdTokenAlgorithms:
    def _id_token(self, ctx, browser, client, app):  # type: ignore[no-untyped-def]
        key = DPoPKey()
        nonce = dpop_nonce(client, ISSUER, key, app)
        query, _, verifier = authorization_params(app)
        request_uri = push(client, query, app.auth_form()).json()["request_uri"]
        code = consent_to(browser, pushed_path(app.client_id, request_uri))["code"]
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
        tokens = client.post(
            TOKEN_PATH,
            data={**data, "code_verifier": verifier, **app.auth_form()},
            headers={"DPoP": key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)},
        )
        assert tokens.status_code == 200, tokens.text
        return tokens.json()["id_token"]

    def test_a_fapi_client_registered_for_ps256_gets_ps256_id_tokens(self, ctx, browser, client):
        app = register_keyed_app(ctx, fapi=True, id_token_alg="PS256")
        id_token = self._id_token(ctx, browser, client, app)
        published = client.get("/.well-known/jwks.json").json()
        decoded = jwt.decode(id_token, KeySet.import_key_set(published), algorithms=["PS256"])
        assert decoded.header["alg"] == "PS256" and decoded.claims["aud"] == app.client_id
        signer = next(key for key in published["keys"] if key["kid"] == decoded.header["kid"])
        assert signer["kty"] == "RSA" and signer["alg"] == "PS256"
        rs256 = {key["kid"] for key in published["keys"] if key["alg"] == "RS256"}
        assert decoded.header["kid"] not in rs256, "one key, one algorithm"

    def test_rotation_publishes_a_new_ps256_key(self, ctx, browser, client):
        from spiko.auth.oauth.keys import KeyRing

        app = register_keyed_app(ctx, fapi=True, id_token_alg="PS256")
        before = jwt.decode(
            self._id_token(ctx, browser, client, app),
            KeySet.import_key_set(client.get("/.well-known/jwks.json").json()),
            algorithms=["PS256"],
        ).header["kid"]
        with ctx.transaction() as session:
            rotated = KeyRing(ctx.settings).rotate(session)
        assert before in rotated["retired"] and len(rotated["kids"]) == 3
        time.sleep(5.1)  # the key cache of the running app (KEY_CACHE_SECONDS)
        after = self._id_token(ctx, browser, client, app)
        published = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
        header = jwt.decode(after, published, algorithms=["PS256"]).header
        assert header["alg"] == "PS256" and header["kid"] in rotated["kids"]

    def test_registration_refuses_an_algorithm_fapi_does_not_allow(self, ctx):
        from spiko.errors import BadRequestError

        with pytest.raises(BadRequestError, match="ES256 or PS256"):
            register_keyed_app(ctx, fapi=True, id_token_alg="RS256")
        with pytest.raises(BadRequestError, match="RS256, ES256, PS256"):
            register_keyed_app(ctx, id_token_alg="HS256")

    def test_a_plain_client_may_ask_for_ps256(self, ctx, browser, client):
        app = register_keyed_app(ctx, id_token_alg="PS256")
        id_token = self._id_token(ctx, browser, client, app)
        published = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
        assert jwt.decode(id_token, published, algorithms=["PS256"]).header["alg"] == "PS256"


class TestProofReplayAcrossWorkers:
    """Two app contexts on one database stand for two workers (or two servers)."""

    def test_without_redis_every_worker_refuses_a_replay(self, client_with, bound):
        tokens, key, nonce = bound
        first = client_with(base_url="http://testserver")
        second = client_with(base_url="http://testserver")
        proof = key.proof("GET", ISSUER + ME, access_token=tokens["access_token"], nonce=nonce)
        headers = {"Authorization": f"DPoP {tokens['access_token']}", "DPoP": proof}
        assert first.get(ME, headers=headers).status_code == 200
        for worker in (second, first):
            replayed = worker.get(ME, headers=headers)
            assert replayed.status_code == 401
            assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
        fresh = key.proof("GET", ISSUER + ME, access_token=tokens["access_token"], nonce=nonce)
        assert second.get(ME, headers={**headers, "DPoP": fresh}).status_code == 200

    def test_without_redis_a_proof_refused_elsewhere_is_never_accepted_here(self, ctx, client_with, bound):
        """The memory in front of the database holds only what the database recorded."""
        tokens, key, nonce = bound
        workers = [client_with(base_url="http://testserver") for _ in range(3)]
        proofs = [
            key.proof("GET", ISSUER + ME, access_token=tokens["access_token"], nonce=nonce) for _ in range(4)
        ]
        accepted = []
        for proof in proofs:
            headers = {"Authorization": f"DPoP {tokens['access_token']}", "DPoP": proof}
            statuses = [worker.get(ME, headers=headers).status_code for worker in (*workers, *workers)]
            accepted.append(statuses.count(200))
        assert accepted == [1, 1, 1, 1]

    def test_with_redis_every_worker_refuses_a_replay(self, client_with, bound):
        tokens, key, nonce = bound
        redis_url, prefix = _redis()
        first = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        second = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        proof = key.proof("GET", ISSUER + ME, access_token=tokens["access_token"], nonce=nonce)
        headers = {"Authorization": f"DPoP {tokens['access_token']}", "DPoP": proof}
        assert first.get(ME, headers=headers).status_code == 200
        replayed = second.get(ME, headers=headers)
        assert (
            replayed.status_code == 401
            and 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
        )
        fresh = key.proof("GET", ISSUER + ME, access_token=tokens["access_token"], nonce=nonce)
        assert second.get(ME, headers={**headers, "DPoP": fresh}).status_code == 200


def _redis() -> tuple[str, str]:
    import os
    import uuid

    redis_url = os.environ.get("SPIKO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return redis_url, f"spiko-test-{uuid.uuid4().hex[:8]}:"


def _used_jtis(ctx) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from spiko.db.models.fapi import UsedJti

    with ctx.transaction(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(UsedJti)) or 0)


class TestRedisReplayStoreAtTheTokenEndpoint:
    """With Redis, the token endpoint's proofs and client assertions are remembered there, by
    every worker, and the database keeps none of them."""

    def test_a_proof_used_at_one_worker_is_refused_by_another(self, ctx, client_with, app_client, bound):
        import redis

        tokens, key, nonce = bound
        redis_url, prefix = _redis()
        first = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        second = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        rows_before = _used_jtis(ctx)
        proof = key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)
        data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        refreshed = first.post(TOKEN_PATH, data=data, headers={"DPoP": proof, **app_client.basic})
        assert refreshed.status_code == 200, refreshed.text
        again = {"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]}
        replayed = second.post(TOKEN_PATH, data=again, headers={"DPoP": proof, **app_client.basic})
        assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_dpop_proof"
        assert "already used" in replayed.json()["error_description"]
        fresh = key.proof("POST", ISSUER + TOKEN_PATH, nonce=nonce)
        honest = second.post(TOKEN_PATH, data=again, headers={"DPoP": fresh, **app_client.basic})
        assert honest.status_code == 200, honest.text
        store = redis.Redis.from_url(redis_url)
        try:
            remembered = list(store.scan_iter(match=prefix + "jti:*"))
            assert len(remembered) == 2 and all(0 < store.pttl(name) <= 70_000 for name in remembered)
        finally:
            store.delete(*remembered)
            store.close()
        assert _used_jtis(ctx) == rows_before

    def test_a_client_assertion_used_at_one_worker_is_refused_by_another(
        self, ctx, browser, client, client_with
    ):
        app = register_keyed_app(ctx)
        redis_url, prefix = _redis()
        first = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        second = client_with(base_url="http://testserver", redis_url=redis_url, redis_prefix=prefix)
        rows_before = _used_jtis(ctx)
        query, _, _ = authorization_params(app)
        form = {**query, **app.auth_form(jti="assertion-across-workers")}
        assert first.post(PAR_PATH, data=form).status_code == 201
        replayed = second.post(PAR_PATH, data=form)
        assert replayed.status_code in (400, 401) and replayed.json()["error"] == "invalid_client"
        assert second.post(PAR_PATH, data={**query, **app.auth_form()}).status_code == 201
        assert _used_jtis(ctx) == rows_before
