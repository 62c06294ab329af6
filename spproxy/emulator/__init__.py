"""An emulated Amazon (LWA, STS and SP-API) for tests and `spproxy demo`."""

from spproxy.emulator.app import make_emulator_app
from spproxy.emulator.application import DEMO_APPLICATION_ID, Application
from spproxy.emulator.credentials import IssuedToken, RestrictedResource
from spproxy.emulator.faultkinds import Fault, Hold
from spproxy.emulator.faults import Faults
from spproxy.emulator.limits import UsagePlan
from spproxy.emulator.state import (
    DEMO_AUTHORIZATION_CODE,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_SELLER_ID,
    STATE_KEY,
    EmulatorConfig,
    EmulatorState,
    RdtMint,
    ReceivedRequest,
)

__all__ = [
    "DEMO_APPLICATION_ID",
    "DEMO_AUTHORIZATION_CODE",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REFRESH_TOKEN",
    "DEMO_SELLER_ID",
    "STATE_KEY",
    "Application",
    "EmulatorConfig",
    "EmulatorState",
    "Fault",
    "Faults",
    "Hold",
    "IssuedToken",
    "RdtMint",
    "ReceivedRequest",
    "RestrictedResource",
    "UsagePlan",
    "make_emulator_app",
]
