"""The province borders behind the website's "near me": every province, each border known from both sides."""

from __future__ import annotations

from jobs_core import geo


def test_every_province_has_its_neighbours_and_borders_go_both_ways() -> None:
    codes = {p.code for p in geo.provinces()}
    assert len(codes) == 25
    for code in codes:
        around = geo.near(code)
        assert around[0] == code
        assert set(around[1:]) <= codes - {code}, code
        assert around[1:], f"{code} borders no province"
        for other in around[1:]:
            assert code in geo.near(other), (code, other)


def test_phnom_penh_is_enclosed_by_kandal_and_kep_touches_only_kampot() -> None:
    assert geo.near("12") == ("12", "08")
    assert geo.near("23") == ("23", "07")
    assert "12" in geo.near("08")
