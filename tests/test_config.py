"""The schema's own promises: secrets masked in any repr; accounts by selling partner id."""

from __future__ import annotations

import yaml

from spproxy.configread import parse_config
from tests.test_configread import ENV, FULL


def test_secrets_never_show_in_repr() -> None:
    text = repr(parse_config(yaml.safe_load(FULL), ENV))
    for secret in ("cs-from-env", "Atzr|refresh-from-env", "s3cr3t", "Atzr|second"):
        assert secret not in text


def test_accounts_are_found_by_selling_partner_id_through_an_index_built_once() -> None:
    text = FULL.replace("    region: eu\n", "    region: eu\n    selling_partner_id: A2EUSELLER\n")
    config = parse_config(yaml.safe_load(text), ENV)
    assert config.selling_partners == {"A2EUSELLER": config.accounts["europe"]}
    assert config.selling_partners is config.selling_partners  # once per config, not per call
