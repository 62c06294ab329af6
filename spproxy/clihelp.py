"""The command line's help texts: each command's environment, exit statuses and examples."""

from __future__ import annotations

EXIT_STATUS = """exit status:
  0  stopped by SIGINT or SIGTERM (requests in flight finish first)
  1  a runtime failure: the port cannot be listened on
  2  an unusable configuration or command line (one line per problem)"""
SERVE_HELP = f"""environment (a flag wins over its variable, a variable over the file):
  SPPROXY_CONFIG       the config file, as --config
  SPPROXY_HOST         as --host
  SPPROXY_PORT         as --port
  SPPROXY_LOG_LEVEL    as --log-level
  SPPROXY_LOG_FORMAT   as --log-format
  SPPROXY_WORKERS      as --workers
  SPPROXY_EVENT_LOOP   as --event-loop: auto (uvloop if installed), uvloop or asyncio
  without a config file, one account from SPAPI_CLIENT_ID, SPAPI_CLIENT_SECRET,
  SPAPI_REFRESH_TOKEN, SPAPI_REGION (each secret also as *_FILE: a file holding it),
  optionally SPAPI_SANDBOX, SPAPI_ENDPOINT, SPAPI_LWA_ENDPOINT, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ROLE_ARN

{EXIT_STATUS}

examples:
  spproxy serve --config spproxy.yaml
  SPPROXY_PORT=0 spproxy serve           # a free port, printed in the start-up line
  curl -i http://127.0.0.1:8000/sellers/v1/marketplaceParticipations
"""
DEMO_HELP = f"""environment: SPPROXY_PORT, SPPROXY_LOG_LEVEL, SPPROXY_LOG_FORMAT and
SPPROXY_EVENT_LOOP, as the flags

{EXIT_STATUS}

example:
  spproxy demo --port 8000     # then the curl lines it prints
"""
CHECK_HELP = """environment: SPPROXY_CONFIG and the SPAPI_* variables, as for serve

exit status:
  0  every account's refresh token was exchanged
  1  an account's exchange failed (the table says why)
  2  an unusable configuration

example:
  spproxy check --config spproxy.yaml
"""
EMULATOR_HELP = """exit status:
  0  stopped by SIGINT or SIGTERM
  1  the port cannot be listened on
  2  an unusable command line

example:
  spproxy emulator --port 8100 --keys AKIDEXAMPLE:secret
"""
