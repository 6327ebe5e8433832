# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs, input validation and redis-py connections shared by the modules."""

from __future__ import annotations

import inspect
import traceback
from typing import Any, Mapping

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.redisops.sentinel.plugins.module_utils.tls import TlsSettings, tls_param_errors
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import is_port

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.exceptions import AuthenticationError, RedisError
    from redis.retry import Retry
except ImportError:
    HAS_REDIS = False
    REDIS_IMP_ERR: str | None = traceback.format_exc()

    class ResponseError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except ResponseError`` stays valid without redis-py."""

    class AuthenticationError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``isinstance(exc, AuthenticationError)`` stays valid without redis-py."""

    RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
    SLOW_ERRORS: tuple[type[BaseException], ...] = (TimeoutError,)
else:
    HAS_REDIS = True
    REDIS_IMP_ERR = None
    # The modules take ResponseError from here: redis-py's, or the stand-in above without redis-py.
    ResponseError = redis.exceptions.ResponseError
    # Connection refused while a service starts, LOADING, timeouts ... are retried.
    RETRYABLE_ERRORS = (RedisError, OSError)
    # A server that is there but slow to answer: a timeout, or LOADING a data set.
    SLOW_ERRORS = (redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError, TimeoutError)

# redis-py 8 speaks RESP3 by default, which turns SENTINEL replies into maps; the
# parsers of this collection expect RESP2 flat lists. redis-py 4.x has no protocol
# argument and always speaks RESP2.
_PROTOCOL_ARGS = ({'protocol': 2} if HAS_REDIS and 'protocol' in inspect.signature(redis.Redis.__init__).parameters
                  else {})

REDIS_PORT = 6379
SENTINEL_PORT = 26379
MAX_POLL_INTERVAL = 0.2
# How a server refuses a password: redis-py 5+ raises AuthenticationError for both replies, redis-py 4.3
# (Debian 12's python3-redis) a plain ResponseError for WRONGPASS.
REFUSED_LOGIN_REPLIES = ('WRONGPASS', 'INVALID PASSWORD', 'INVALID USERNAME-PASSWORD')


def connection_argument_spec(default_port: int) -> dict[str, dict[str, Any]]:
    """Options used to reach the server the module queries, and every other node it reaches."""
    return dict(
        login_host=dict(type='str', default='127.0.0.1'),
        login_port=dict(type='int', default=default_port),
        login_user=dict(type='str'),
        login_password=dict(type='str', no_log=True),
        login_password_previous=dict(type='str', no_log=True),
        login_user_previous=dict(type='str'),
        connect_timeout=dict(type='float', default=2.0),
        tls=dict(type='bool', default=False),
        tls_ca_file=dict(type='path'),
        tls_cert_file=dict(type='path'),
        tls_key_file=dict(type='path'),
        tls_verify_hostname=dict(type='bool', default=False),
    )


def wait_argument_spec() -> dict[str, dict[str, Any]]:
    return dict(
        timeout=dict(type='float', default=60.0),
        poll_interval=dict(type='float', default=0.1),
    )


def port_error(name: str, port: int | None) -> str | None:
    if port is None or is_port(port):
        return None
    return '%s must be between 1 and 65535, got %d' % (name, port)


def connection_param_errors(params: Mapping[str, Any]) -> list[str]:
    """Problems with the options of connection_argument_spec, as readable sentences."""
    errors = []
    if params['connect_timeout'] <= 0:
        errors.append('connect_timeout must be greater than 0, got %s' % params['connect_timeout'])
    error = port_error('login_port', params['login_port'])
    if error:
        errors.append(error)
    return errors + tls_param_errors(params)


def common_param_errors(params: Mapping[str, Any]) -> list[str]:
    """Problems with the connection and wait options, as readable sentences."""
    errors = []
    if params['timeout'] < 0:
        errors.append('timeout must not be negative, got %s' % params['timeout'])
    interval = params['poll_interval']
    if not 0 < interval <= MAX_POLL_INTERVAL:
        errors.append('poll_interval must be greater than 0 and at most %s seconds, got %s'
                      % (MAX_POLL_INTERVAL, interval))
    return connection_param_errors(params) + errors


def fail_on_param_errors(module, errors: list[str]) -> None:
    if errors:
        module.fail_json(msg='Invalid parameters: %s.' % '; '.join(errors), changed=False)


def ensure_redis_library(module) -> None:
    """Fail without redis-py, except in check mode where the library may not be installed yet."""
    if HAS_REDIS:
        return
    msg = missing_required_lib('redis')
    if module.check_mode:
        module.exit_json(changed=False, ready=False, msg='Check mode: %s' % msg)
    module.fail_json(msg=msg, exception=REDIS_IMP_ERR, changed=False)


def refused_login(exc: BaseException) -> bool:
    """Whether ``exc`` is a server refusing the password (WRONGPASS), with any redis-py version."""
    return isinstance(exc, AuthenticationError) or (
        isinstance(exc, ResponseError) and str(exc).upper().startswith(REFUSED_LOGIN_REPLIES))


def connect(params: Mapping[str, Any], host: str | None = None, port: int | None = None,
            decode: bool = True) -> 'redis.Redis':
    """A client for login_host:login_port, or for host:port with the same credentials and TLS settings.

    Responses are decoded to str, unless ``decode`` is false (bytes, for binary-safe values).
    redis-py's own retries are switched off so the caller's poll loop alone decides when to try again.
    During a password rotation (``login_password_previous`` set), a server that refuses
    ``login_password`` (WRONGPASS) is logged in to with the previous password instead, so a run can
    reach a node that still has only the old one and change it. The previous password belongs to
    ``login_user_previous`` when that is set (``default`` while a one-password topology moves to ACL
    mode and the login user does not exist yet), else to ``login_user``.
    """
    client = _client(params, params['login_user'], params['login_password'], host, port, decode)
    previous = previous_login(params)
    if previous is None:
        return client
    try:
        client.ping()
    except RETRYABLE_ERRORS as exc:
        if refused_login(exc):
            client.close()
            return _client(params, previous[0], previous[1], host, port, decode)
        # Not an answer about the password (not up yet, timeout ...): the caller's first command meets
        # the same error and handles it as it would without a rotation.
    return client


def previous_login(params: Mapping[str, Any]) -> tuple[str | None, str] | None:
    """The (user, password) to log in with when the server refuses the current ones, if any."""
    password = params.get('login_password_previous')
    user = params.get('login_user_previous') or params['login_user']
    if not password or (user, password) == (params['login_user'], params['login_password']):
        return None
    return user, password


def _client(params: Mapping[str, Any], user: str | None, password: str | None, host: str | None,
            port: int | None, decode: bool) -> 'redis.Redis':
    timeout = params['connect_timeout']
    tls = TlsSettings.from_params(params)
    return redis.Redis(
        host=host or params['login_host'],
        port=port or params['login_port'],
        username=user,
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode,
        retry=Retry(NoBackoff(), 0),
        **(tls.redis_kwargs() if tls else {}),
        **_PROTOCOL_ARGS,
    )
