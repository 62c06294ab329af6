"""AWS's published SigV4 test vectors, vendored from awslabs/aws-c-auth
(tests/aws-signing-test-suite/v4, Apache-2.0: see data/aws-sigv4-test-suite/LICENSE and NOTICE)."""

from pathlib import Path

SIGV4_SUITE = Path(__file__).parent / "data" / "aws-sigv4-test-suite" / "v4"
SIGV4_VECTORS = sorted(path.name for path in SIGV4_SUITE.iterdir() if path.is_dir())
