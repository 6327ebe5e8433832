#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_config
short_description: Apply settings to a running Redis server, live
version_added: "0.1.0"
description:
  - Reads every setting of O(settings) and O(secret_settings) with C(CONFIG GET) from the Redis server at
    O(login_host):O(login_port) and changes only those that differ, all in one C(CONFIG SET), which Redis
    applies entirely or not at all.
  - Values are compared the way Redis reports them. Memory sizes count in bytes, with the units of redis.conf
    (C(k)=1000, C(kb)=1024, C(m), C(mb), C(g), C(gb), in any case); C(yes) and C(no) may have any case; runs of
    white space count as one space. Any other text, enum values included, is compared as written, so write it
    the way C(CONFIG GET) shows it (for example V(allkeys-lru), not V(ALLKEYS-LRU)).
  - After a change the module checks with C(CONFIG GET) that the server reports the requested values, then
    saves the running configuration to the server's config file with C(CONFIG REWRITE) (see O(rewrite)).
  - Some settings cannot change while the server runs; Redis answers C(can't set immutable config), or
    C(can't set protected config) while C(enable-protected-configs) is C(no) (C(dir), C(dbfilename)). The module
    writes those to O(config_file) and returns them in RV(restart_required); the server keeps the old values
    until it restarts. Without O(config_file) the task fails before anything changes.
  - A setting that C(CONFIG GET) does not know fails the task before anything changes. Directives that exist
    only in redis.conf (C(include), C(rename-command), C(loadmodule) ...) cannot be managed here.
  - Secret values, those of O(secret_settings) and those of C(requirepass), C(masterauth), C(tls-key-file-pass)
    and C(tls-client-key-file-pass) wherever they are given, are compared exactly and never returned. The result
    and the diff show them as C(********), or as the text "(changed)" when they change.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - In check mode the server is only read (C(CONFIG GET)). A setting that cannot change live is then reported
        in RV(changed_settings), not in RV(restart_required), since only C(CONFIG SET) tells.
  diff_mode:
    support: full
    details:
      - One C(name value) line per requested setting, secret values masked.
options:
  login_port:
    description:
      - TCP port of the Redis server to configure.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  connect_timeout:
    description:
      - Timeout in seconds for connecting to the server and for each of its replies.
      - Must be greater than 0.
    type: float
    default: 2.0
  settings:
    description:
      - The settings to apply, by name (as in redis.conf, case-insensitive) with the requested value.
      - A value is a string, an integer, a boolean (V(true) is C(yes), V(false) is C(no)) or a list of those,
        joined with single spaces (for example C(save) or C(bind); the order of the list is kept).
      - The empty value is V("") or, as in redis.conf, V('""').
      - At least one of O(settings) and O(secret_settings) is required.
    type: dict
  secret_settings:
    description:
      - Settings whose values are secret, like O(settings). Ansible hides their values from its output and logs.
      - Put C(requirepass) and C(masterauth) here; given in O(settings) they are masked too, but Ansible may have
        logged the module arguments before the module runs, so the module warns.
      - A name must not appear in both O(settings) and O(secret_settings).
    type: dict
  rewrite:
    description:
      - Save the running configuration to the server's config file with C(CONFIG REWRITE) after a live change,
        so that a restart keeps it.
      - This fails when the server runs without a config file; the new values are then live only.
    type: bool
    default: true
  requirepass_previous:
    description:
      - During a rotation of C(requirepass), the password being rotated out, which the default user keeps
        accepting beside the new one (Redis 6 or later, where C(requirepass) is the default user's password).
      - While it is set, the default user must have exactly the two passwords (C(ACL GETUSER default));
        a server that has them is left alone, whether its C(requirepass) is still the old value or already
        the new one. Otherwise C(ACL SETUSER default resetpass >new >previous) sets both in one command, so
        that no client with either password is refused meanwhile.
      - Without it, a given C(requirepass) must be the default user's only password, so the old one is
        removed (C(CONFIG SET requirepass)) when this option is dropped after the clients have switched.
      - Requires C(requirepass) in O(secret_settings), and must differ from it.
    type: str
  reload_tls:
    description:
      - After the settings, make the server read its TLS files again (certificate, key, CA, and the client
        certificate and key when set) with C(CONFIG SET) of their current paths. Redis re-reads a TLS file
        given again under the same name, and keeps its connections (replication links included).
      - For new TLS files written under the same paths (a certificate, key or CA rotation). Always reports a
        change; the roles set it only when they have just written new TLS files.
    type: bool
    default: false
  config_file:
    description:
      - Path, on the managed host, of the config file the server reads at start.
      - Used only for the settings that cannot change live. The first line of such a directive gets the new value,
        its other lines are removed, and the directive is appended when the file lacks it. Owner, group, mode and
        SELinux context of the file are kept; the file is replaced atomically.
      - Files read with C(include) are not searched.
    type: path
notes:
  - Requires Redis 7.0 or later to change several settings in one C(CONFIG SET); the ACL user needs
    C(+config|get), C(+config|set) and C(+config|rewrite).
  - Changing C(requirepass) does not log out the module's own connection, but later tasks must use the new
    O(login_password) (or keep the old one as O(login_password_previous) during a rotation).
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.replica_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Cap the memory and keep RDB snapshots
  redisops.sentinel.redis_config:
    login_password: "{{ redis_password }}"
    settings:
      maxmemory: 2gb
      maxmemory-policy: allkeys-lru
      save: ["3600 1", "300 100"]
      appendonly: true

- name: Rotate the replication password without logging it
  redisops.sentinel.redis_config:
    login_password: "{{ redis_password }}"
    secret_settings:
      masterauth: "{{ redis_password }}"

- name: Rotate the password - while the clients switch, the default user accepts the new and the old one
  redisops.sentinel.redis_config:
    login_password: "{{ redis_password }}"
    login_password_previous: "{{ redis_password_previous }}"
    secret_settings:
      requirepass: "{{ redis_password }}"
      masterauth: "{{ redis_password }}"
    requirepass_previous: "{{ redis_password_previous }}"

- name: Apply settings, including those that need a restart
  redisops.sentinel.redis_config:
    login_password: "{{ redis_password }}"
    config_file: /etc/redis/redis.conf
    settings:
      maxclients: 20000
      databases: 32
  register: redis_settings

- name: Restart Redis when a setting could not be applied live
  ansible.builtin.service:
    name: redis-server
    state: restarted
  when: redis_settings.restart_required | length > 0
"""

RETURN = r"""
changed_settings:
  description:
    - Names of the settings changed on the running server, or written to O(config_file) for the next restart.
    - In check mode, the settings that would change.
  returned: always
  type: list
  elements: str
  sample: [maxmemory, databases]
restart_required:
  description:
    - Names of the settings that differ on the running server and that only a restart can change. O(config_file)
      holds their new values. Also returned when O(config_file) already held them (the task then reports no change).
  returned: always
  type: list
  elements: str
  sample: [databases]
diff:
  description: C(name value) lines of the requested settings before and after, secret values masked.
  returned: always
  type: dict
  contains:
    before:
      description: The values the server reported.
      type: str
      sample: "maxmemory 0\nrequirepass ********\n"
    after:
      description: The requested values of the settings that change, the reported values of the others.
      type: str
      sample: "maxmemory 100mb\nrequirepass (changed)\n"
tls_reloaded:
  description: Whether the server read its TLS files again (O(reload_tls); in check mode, would).
  returned: always
  type: bool
  sample: false
msg:
  description: Human readable outcome.
  returned: always
  type: str
  sample: Changed maxmemory live on 127.0.0.1:6379 and saved with CONFIG REWRITE.
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.redis_config import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
