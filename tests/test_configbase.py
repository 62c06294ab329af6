"""How keys are declared: a `Secret` never shows itself; `setting` keeps a key's rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from spproxy.configbase import REQUIRED, Secret, setting


def test_a_secret_is_masked_in_repr_and_str_but_compares_by_value() -> None:
    secret = Secret("Atzr|a-refresh-token")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert secret.reveal() == "Atzr|a-refresh-token"
    assert secret == Secret("Atzr|a-refresh-token") != Secret("Atzr|another")
    assert len({secret, Secret("Atzr|a-refresh-token")}) == 1


def test_a_setting_is_a_field_carrying_its_rules() -> None:
    @dataclass(frozen=True)
    class Section:
        needed: str = setting(doc="what it means")
        bounded: int = setting(3, "a number", low=1, high=5)
        table: dict[str, int] = setting(doc="made fresh", factory=dict)

    needed, bounded, _ = dataclasses.fields(Section)
    assert needed.default is REQUIRED and needed.metadata["doc"] == "what it means"
    assert (bounded.default, bounded.metadata["low"], bounded.metadata["high"]) == (3, 1, 5)
    assert Section("x").table is not Section("y").table
