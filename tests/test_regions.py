"""SP-API's regions as its docs list them ("SP-API endpoints")."""

from __future__ import annotations

from spproxy.regions import REGIONS


def test_each_region_has_its_endpoint_its_sandbox_and_its_signing_region() -> None:
    assert {name: region.aws_region for name, region in REGIONS.items()} == {
        "na": "us-east-1",
        "eu": "eu-west-1",
        "fe": "us-west-2",
    }
    for name, region in REGIONS.items():
        assert region.endpoint == f"https://sellingpartnerapi-{name}.amazon.com"
        assert region.sandbox_endpoint == f"https://sandbox.sellingpartnerapi-{name}.amazon.com"
