"""Whatever a client sends to the order routes, the answer is a tagged 4xx or a success, never a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.orders.conftest import TODAY

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["1000", "0.00001", "1e400", "-0", "NaN", "99999999999999999999999", "1." + "9" * 40]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_makes_a_500(world, investor, data):
    if not hasattr(world, "_fuzz"):
        world.publish("EUTBL", TODAY, "1.045300")
        account = world.account(investor)
        world._fuzz = {
            "account": account,
            "second": world.account(investor),
            "bank": world.bank_account(investor),
        }
        world.invest(investor, account, "10000.00")
    ids = world._fuzz
    eutbl = world.share_classes["EUTBL"]
    some_id = st.sampled_from([ids["account"], ids["second"], ids["bank"], eutbl, "x", ""]) | json_values
    amount = st.fixed_dictionaries(
        {
            "value": st.text(max_size=30) | json_values,
            "currency": st.sampled_from(["EUR", "USD", "XXX"]) | json_values,
        }
    )
    bodies = {
        "/v1/accounts": st.fixed_dictionaries(
            {
                "type": st.just("internal") | json_values,
                "investorId": st.just(investor.investor_id) | some_id,
                "shareClassId": some_id,
            },
            optional={"name": st.text(max_size=300), "network": st.text(max_size=20)},
        ),
        "/v1/deposit-orders": st.fixed_dictionaries(
            {"accountId": some_id, "shareClassId": some_id, "amount": amount | json_values}
        ),
        "/v1/withdrawal-orders": st.fixed_dictionaries(
            {
                "accountId": some_id,
                "shareClassId": some_id,
                "destination": st.fixed_dictionaries(
                    {
                        "type": st.sampled_from(
                            ["bank-transfer", "instant-bank-transfer", "stablecoin-transfer"]
                        ),
                        "bankAccountId": some_id,
                    }
                )
                | json_values,
                "quantity": st.one_of(
                    st.fixed_dictionaries({"mode": st.just("amount"), "amount": amount}),
                    st.fixed_dictionaries(
                        {"mode": st.just("shares"), "shares": st.text(max_size=30) | json_values}
                    ),
                    st.just({"mode": "total"}),
                    json_values,
                ),
            }
        ),
        "/v1/transfer-orders": st.fixed_dictionaries(
            {
                "investorId": st.just(investor.investor_id) | some_id,
                "fromAccountId": some_id,
                "toAccountId": some_id,
                "shareClassId": some_id,
                "transferAmount": st.one_of(
                    st.just({"type": "total"}),
                    st.fixed_dictionaries(
                        {"type": st.just("in-shares"), "sharesAmount": st.text(max_size=30) | json_values}
                    ),
                    st.fixed_dictionaries({"type": st.just("in-amount"), "amount": amount}),
                    json_values,
                ),
            }
        ),
        "/v1/redemption-orders/instant": st.fixed_dictionaries(
            {"accountId": some_id, "shareClassId": some_id, "amount": amount, "bankAccountId": some_id}
        ),
    }
    path = data.draw(st.sampled_from(sorted(bodies)))
    body = data.draw(bodies[path])
    response = world.client.post(path, json=body, headers=investor.basic)
    assert response.status_code < 500, (path, body, response.text)
    assert "_tag" in response.json() or response.status_code == 200
