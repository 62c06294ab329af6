from tests.harness import harness, start
from tests.redis_server import redis_server, redis_url

__all__ = ["harness", "redis_server", "redis_url", "start"]
