"""Each command's help names its environment variables and exit statuses."""

from __future__ import annotations

from spproxy.cli import FLAG_VARIABLES
from spproxy.clihelp import (
    CHECK_HELP,
    DEMO_HELP,
    EMULATOR_HELP,
    EXIT_STATUS,
    FEED_HELP,
    REPORT_HELP,
    SERVE_HELP,
)


def test_serve_names_every_variable_and_every_exit_status() -> None:
    assert all(variable in SERVE_HELP for variable in FLAG_VARIABLES.values())
    assert EXIT_STATUS in SERVE_HELP and EXIT_STATUS in DEMO_HELP


def test_the_other_commands_say_how_they_end() -> None:
    for text in (CHECK_HELP, EMULATOR_HELP):
        assert "exit status" in text


def test_report_and_feed_say_how_they_end_and_what_ctrl_c_does() -> None:
    for text, cancel in ((REPORT_HELP, "cancelReport"), (FEED_HELP, "cancelFeed")):
        assert "SPPROXY_KEY" in text and "130  interrupted" in text and cancel in text
        assert "\n  1    " in text and "\n  0    " in text
