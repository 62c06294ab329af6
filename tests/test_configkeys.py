"""The declarations read back: which fields are keys, their types, required and secret ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from spproxy.config import Account, AwsConfig, Client, Config, Listen, LwaConfig, Secret
from spproxy.configkeys import (
    hints,
    is_required,
    is_secret,
    is_section,
    section_keys,
    strip_optional,
)


def _field(cls: type[Any], name: str) -> dataclasses.Field[Any]:
    return next(spec for spec in dataclasses.fields(cls) if spec.name == name)


def test_derived_fields_are_not_keys() -> None:
    names = [spec.name for spec in section_keys(Account)]
    assert "name" not in names and "aws_region" not in names
    assert names[:2] == ["refresh_token", "region"]  # declaration order
    assert "source" not in [spec.name for spec in section_keys(Config)]


@pytest.mark.parametrize(
    ("cls", "name", "required"),
    [
        (Account, "refresh_token", True),
        (Account, "region", True),
        (Account, "sandbox", False),
        (Config, "clients", False),  # a default factory
        (AwsConfig, "session_token", False),
    ],
)
def test_required_means_no_default(cls: type[Any], name: str, required: bool) -> None:
    assert is_required(_field(cls, name)) is required


@pytest.mark.parametrize(
    ("cls", "name", "secret"),
    [
        (LwaConfig, "client_id", True),  # a string declared secret
        (LwaConfig, "client_secret", True),
        (AwsConfig, "session_token", True),  # Secret | None
        (Client, "key", True),
        (LwaConfig, "endpoint", False),
        (AwsConfig, "role_arn", False),
    ],
)
def test_secrets_by_declaration_or_by_type(cls: type[Any], name: str, secret: bool) -> None:
    assert is_secret(_field(cls, name), cls) is secret


def test_types_without_their_none() -> None:
    assert strip_optional(hints(AwsConfig)["session_token"]) is Secret
    assert strip_optional(hints(Listen)["tls_cert_file"]) is str
    assert strip_optional(str) is str
    assert strip_optional(int | str | None) == int | str | None  # more than one: left alone


def test_sections_are_the_dataclasses() -> None:
    field_types = hints(Config)
    assert is_section(field_types["listen"]) and is_section(strip_optional(field_types["aws"]))
    assert not is_section(field_types["user_agent"])
    assert not is_section(field_types["accounts"])  # a mapping of sections, named
    assert field_types["accounts"] == Mapping[str, Account]
    assert hints(Config) is field_types  # resolved once
