from tests.harness import harness, start

__all__ = ["harness", "start"]
