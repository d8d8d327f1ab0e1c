"""The investors group and API-key authentication against the app."""

from __future__ import annotations

import warnings

import pytest

from spiko.client import ApiKeyAuth, Investor, InvestorAuthenticationError, NotFoundError, SpikoClient


def test_me_returns_the_investor_of_the_key(client, investor):
    me = client.investors.me()
    assert isinstance(me, Investor)
    assert me.name == "Alice Treasury SAS"
    assert me.id == investor.investor_id
    assert me.type == "organization"


def test_each_key_reaches_its_own_investor(server, client):
    other = server.investor("Mallory Holdings")
    with server.client(other) as theirs:
        assert theirs.investors.me().name == "Mallory Holdings"
    assert client.investors.me().name == "Alice Treasury SAS"


def test_deprecated_list_warns_and_holds_only_the_caller(client, investor):
    with pytest.warns(DeprecationWarning, match="investors.me"):
        investors = client.investors.list()
    assert [item.id for item in investors] == [investor.investor_id]


def test_deprecation_warning_points_at_the_callers_line(client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.investors.list()
    assert caught and caught[0].filename == __file__


def test_wrong_secret_raises_the_tagged_authentication_error(server, investor):
    auth = ApiKeyAuth(investor.client_id, "wrong")
    with SpikoClient(server.url, auth=auth, transport=server.transport) as sdk:  # noqa: SIM117
        with pytest.raises(InvestorAuthenticationError) as caught:
            sdk.investors.me()
    error = caught.value
    assert error.tag == "InvestorAuthenticationError"
    assert error.status == 401
    assert error.reason  # the body's field, as an attribute
    assert error.fields["reason"] == error.reason


def test_base_url_may_already_name_the_api_root(server, investor):
    auth = ApiKeyAuth(investor.client_id, investor.client_secret)
    with SpikoClient(server.url + "/v1/", auth=auth, transport=server.transport) as sdk:
        assert sdk.investors.me().id == investor.investor_id


def test_unknown_object_raises_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.accounts.get("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404
    assert caught.value.tag == "NotFoundError"
