from tests.harness import harness, start
from tests.postgres_server import postgres, postgres_server
from tests.redis_server import redis_server, redis_url
from tests.stores import store_config

__all__ = [
    "harness",
    "postgres",
    "postgres_server",
    "redis_server",
    "redis_url",
    "start",
    "store_config",
]
