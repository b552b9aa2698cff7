"""P1: companies (tenants) and their domains."""

from __future__ import annotations

import re

import pytest

from vaxel.services import Conflict, Invalid, NotFound
from vaxel.services.companies import add_company, get_company, list_companies, normalize_domain
from vaxel.store import Store


def test_add_get_list(store: Store) -> None:
    added = add_company(store, " Acme.Example ", "Acme AB")
    assert added.domain == "acme.example"
    assert added.created_at.tzinfo is not None
    add_company(store, "beta.example", "Beta AB")
    assert get_company(store, "ACME.example") == added
    assert [c.domain for c in list_companies(store)] == ["acme.example", "beta.example"]


def test_duplicate_domain_is_a_conflict_whatever_the_case(store: Store) -> None:
    add_company(store, "acme.example", "Acme AB")
    with pytest.raises(Conflict, match=re.escape('company "acme.example" already exists')):
        add_company(store, "ACME.EXAMPLE", "Other")
    assert len(list_companies(store)) == 1


def test_unknown_company(store: Store) -> None:
    with pytest.raises(NotFound, match=re.escape('unknown company "x.test"')):
        get_company(store, "x.test")


@pytest.mark.parametrize(
    "domain",
    ["", "bad_domain", "-acme.example", "acme-.example", "acme..example", "acme.example.",
     "1.2.3.4", "a" * 64 + ".example", ".".join(["abc"] * 64), "acme.example:5060",
     "exämple.se", "acme example", "acme\n.example"],
)  # fmt: skip
def test_invalid_domains(store: Store, domain: str) -> None:
    with pytest.raises(Invalid, match="invalid domain"):
        add_company(store, domain, "X")
    assert list_companies(store) == []


@pytest.mark.parametrize("domain", ["localhost", "a.b", "xn--exmple-cua.se", "pbx-1.acme.example"])
def test_valid_domains(domain: str) -> None:
    assert normalize_domain(domain) == domain


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "tab\there"])
def test_invalid_names(store: Store, name: str) -> None:
    with pytest.raises(Invalid):
        add_company(store, "acme.example", name)
