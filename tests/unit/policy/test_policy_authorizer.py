"""The public face of the adapter: construction, the default helper, and the Authorizer port."""

from __future__ import annotations

from policy_support import context, item, principal

from shadan.domain.vocabulary import Action, InfoCategory
from shadan.policy.authorizer import CedarAuthorizer, default_authorizer
from shadan.policy.catalog import load_default_catalog
from shadan.services.ports import Authorizer


def test_the_default_authorizer_uses_the_packaged_files() -> None:
    auth = default_authorizer()
    assert "td-staff-read" in auth.policy_ids
    assert not auth.retail_own_contracts
    assert default_authorizer(retail_own_contracts=True).retail_own_contracts
    assert auth.catalog == load_default_catalog()


def test_it_implements_the_authorizer_port() -> None:
    port: Authorizer = CedarAuthorizer(load_default_catalog(), retail_own_contracts=False)
    decision = port.decide(
        principal(["wheeling_clerk"]), Action.SEARCH, [item(InfoCategory.LOCATION)], context("問合せ対応")
    )
    assert decision.action is Action.SEARCH
    assert decision.shown == {InfoCategory.LOCATION}
    assert decision.policy_ids == ("td-staff-read",)


def test_reload_rereads_the_packaged_files() -> None:
    auth = default_authorizer()
    before = auth.policy_ids
    auth.reload()
    assert auth.policy_ids == before
