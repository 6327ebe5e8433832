# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """Options shared by the modules of redisops.sentinel."""

    # Connection to the Redis or Sentinel server the module talks to.
    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or IP address of the Redis or Sentinel server to query.
      - The connection is made from the managed host the task runs on.
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - TCP port of the Redis or Sentinel server to query.
      - Must be between 1 and 65535.
    type: int
  login_user:
    description:
      - ACL user name to authenticate with (Redis 6 or later).
      - Leave unset to authenticate as the default user with O(login_password) only.
    type: str
  login_password:
    description:
      - Password to authenticate with (C(AUTH)).
      - Leave unset for a server without C(requirepass).
    type: str
  login_password_previous:
    description:
      - The password being rotated out - during a password rotation only.
      - When a server refuses O(login_password) (C(WRONGPASS)), the module logs in with this one
        instead, so that it can reach a node that does not have the new password yet.
      - The previous password is that of O(login_user_previous) when set, else of O(login_user).
    type: str
  login_user_previous:
    description:
      - The ACL user O(login_password_previous) belongs to, when it is not O(login_user).
      - C(default) while a one-password topology moves to ACL mode - the module logs in as
        O(login_user) where that user exists already, else as the default user with the old password.
    type: str
  connect_timeout:
    description:
      - Timeout in seconds for connecting to and for each reply of a server.
      - Also used for the diagnostic probes of peers made on timeout.
      - Must be greater than 0.
    type: float
    default: 2.0
  tls:
    description:
      - Connect with TLS, to the C(tls-port) of the servers.
      - Applies to every connection the module makes - to the queried server or Sentinel, to the
        data nodes and other Sentinels it reaches, and to the diagnostic probes the wait modules
        make on timeout, which then report a failed TLS handshake as C(tls_error).
      - The certificate chain of each server is always verified, against O(tls_ca_file) or, when
        that is unset, the CAs the managed host trusts.
    type: bool
    default: false
  tls_ca_file:
    description:
      - PEM file, on the managed host, of the CA certificate or certificates that signed the server
        certificates (what the servers have as C(tls-ca-cert-file)).
      - When unset, the CAs the managed host trusts are used.
      - Requires O(tls=true).
    type: path
  tls_cert_file:
    description:
      - PEM file, on the managed host, of the client certificate to present. Servers with
        C(tls-auth-clients yes), the Redis default, refuse clients without one.
      - Must be given together with O(tls_key_file). Requires O(tls=true).
    type: path
  tls_key_file:
    description:
      - PEM file, on the managed host, of the unencrypted private key of O(tls_cert_file).
      - Must be given together with O(tls_cert_file). Requires O(tls=true).
    type: path
  tls_verify_hostname:
    description:
      - Also require that each server certificate names, in its subject alternative names, the host
        name or IP address the module connects to (O(login_host), or the addresses Sentinels and
        replicas report).
      - Off by default because Redis deployments usually address nodes by IP address, and Sentinel
        and replication report IP addresses that certificates often do not list. The certificate
        chain is verified either way.
      - Requires O(tls=true).
    type: bool
    default: false
"""

    # Attributes every module of the collection shares: read-only, posix
    # hosts, members of the action group. Each module adds its check_mode.
    ATTRIBUTES = r"""
attributes:
  diff_mode:
    support: none
  platform:
    platforms: posix
  action_group:
    membership:
      - redisops.sentinel.redis
"""

    # Options of the modules that poll until a condition holds.
    WAIT = r"""
options:
  timeout:
    description:
      - Maximum number of seconds to wait for the expected state.
      - V(0) checks once. Must not be negative.
    type: float
    default: 60
  poll_interval:
    description:
      - Seconds between two checks.
      - Must be greater than 0 and at most 0.2, so that readiness is seen
        within a fifth of a second of being reached.
    type: float
    default: 0.1
"""
