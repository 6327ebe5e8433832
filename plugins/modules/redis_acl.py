#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_acl
short_description: Manage the ACL users of a running Redis server or Sentinel, live
version_added: "0.1.0"
description:
  - Makes the ACL users of the Redis server or Sentinel at O(login_host):O(login_port) match O(users), live,
    with C(ACL SETUSER) and C(ACL DELUSER), then saves them (see O(rewrite)). Nothing is restarted.
  - Each user is declared whole. A user that differs is redefined with one
    C(ACL SETUSER name reset on|off nopass|>password... rules...), which Redis applies entirely or not at
    all; the result is exactly the declaration, whatever the user held before.
  - "Passwords are compared without being read: C(ACL GETUSER) reports the SHA-256 of each password of a
    user, and the module compares them with the SHA-256 of O(users[].passwords), computed locally. Neither
    the passwords nor their hashes are ever returned or shown."
  - "Rules are compared the way Redis understands them. The module defines the wanted rules on a temporary
    user with a random, unguessable name (C(ACL SETUSER <name> reset off <rules>)), reads it back with
    C(ACL GETUSER) and removes it at once, also on failure. That user is disabled and has no password, so
    nobody can log in with it. Redis canonicalises the rules (for example C(+@all -@dangerous +get) reads
    back C(+@all -@dangerous)); the module then writes the command rules in a stable order (Redis 7.0
    lists them in an order that changes with each start) and compares that form, the rules of the diff,
    with the one of the real user. A rule Redis refuses fails the task before any user changes."
  - The user the module logs in as (C(ACL WHOAMI)) is changed last. A change that would lock that login out
    (disable the user, stop accepting O(login_password), or take away a command the module needs, checked
    with C(ACL DRYRUN)) fails the task before anything changes, unless O(allow_lockout=true). Removing
    that user always fails, since Redis closes the connections of a removed user, and so does taking from it
    the command that saves the users while O(rewrite=true).
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - No user listed in O(users) or found by O(purge) is changed and nothing is saved. The temporary user
        that checks the rules is still created and removed.
  diff_mode:
    support: full
    details:
      - Per user, C(enabled), the number of passwords (or C(nopass)) with V((changed\)) when they change, and
        the canonical rules; or C(absent). No password and no hash is shown.
options:
  login_port:
    description:
      - TCP port of the Redis server, or of the Sentinel (usually 26379), whose users are managed.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  connect_timeout:
    description:
      - Timeout in seconds for connecting to the server and for each of its replies.
      - Must be greater than 0.
    type: float
    default: 2.0
  users:
    description:
      - The ACL users to manage. Users not listed are left alone, unless O(purge=true).
      - A name may appear only once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the user, case-sensitive. C(default) is the user of clients that do not log in with a
            name (and the one C(requirepass) sets the password of).
          - Must not be empty or hold white space, quotes or control characters (Redis writes the name
            unquoted into its configuration and ACL files, which would no longer parse).
        type: str
        required: true
      state:
        description:
          - V(present) creates or redefines the user, V(absent) removes it (C(ACL DELUSER), which also
            disconnects its clients). The C(default) user cannot be removed; disable it instead.
        type: str
        choices: [present, absent]
        default: present
      enabled:
        description:
          - Whether the user may log in (C(on)) or not (C(off)). Disabling a user does not disconnect the
            clients already logged in as that user.
        type: bool
        default: true
      passwords:
        description:
          - The passwords of the user, all accepted. Ansible keeps them out of its output and logs.
          - An empty list (the default) means no password; without O(users[].nopass), nobody can then log in
            as that user.
          - To rotate a password without an outage, list the old and the new one, switch the clients, then
            list the new one only.
        type: list
        elements: str
        default: []
      nopass:
        description:
          - Accept any password, or none (C(nopass)). Only with an empty O(users[].passwords).
        type: bool
        default: false
      rules:
        description:
          - The ACL rules of the user besides on/off and passwords, as one string of space-separated rules
            or a list of such strings, for example V(~* &* +@all), or V(resetchannels &__sentinel__:hello
            +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname
            +client|kill +script|kill) for the user Sentinel logs in to the data nodes with.
          - The user starts from C(reset), so the default V("") allows nothing. C(reset) sets the channels
            from C(acl-pubsub-default); write V(resetchannels) or V(&*) to be explicit. C(reset) also sets the
            flag C(sanitize-payload), which the built-in C(default) user lacks, so the first run that manages
            C(default) redefines it even for its own rules V(~* &* +@all).
          - Selectors (V((~cache:* +get\))), key permissions (V(%R~reports:*)) and categories are accepted as
            Redis accepts them.
          - Must not hold C(on), C(off), C(reset), C(nopass), C(resetpass) or password rules (C(>), C(<),
            C(#), C(!)); use O(users[].enabled), O(users[].nopass) and O(users[].passwords).
        type: raw
        default: ""
  purge:
    description:
      - Also remove the users that O(users) does not list. The C(default) user is never removed.
    type: bool
    default: false
  rewrite:
    description:
      - Save the users after a change, so that a restart keeps them.
      - On a Redis server, with C(CONFIG REWRITE), which writes them as C(user) lines of its config file, or,
        when the server uses an ACL file (C(CONFIG GET aclfile) is not empty), with C(ACL SAVE).
      - On a Sentinel, with C(ACL SAVE) when it uses an ACL file, otherwise with C(SENTINEL FLUSHCONFIG),
        which writes them to its config file.
      - Saving fails when the server runs without a config file; the changes are then live only.
    type: bool
    default: true
  allow_lockout:
    description:
      - Apply a change of the user the module logs in as even when this login could no longer log in or
        manage ACL users afterwards (the user disabled, O(login_password) no longer accepted, or a command
        the module needs no longer allowed). Later tasks then need other credentials.
      - Refused anyway are removing that user, and, with O(rewrite=true), taking from it a command that saves
        the users (C(CONFIG GET), C(CONFIG REWRITE), C(ACL SAVE), C(SENTINEL FLUSHCONFIG)), which would leave the
        change unsaved.
    type: bool
    default: false
notes:
  - Requires Redis or Sentinel 7.0 or later. The login user needs C(+info), C(+acl), and to save,
    C(+config|get) and C(+config|rewrite), or C(+acl|save), or on a Sentinel C(+sentinel|flushconfig).
  - Changing a user does not disconnect its clients, whatever changed; removing it does.
  - The C(user default) line that C(CONFIG REWRITE) writes takes precedence, at start, over a C(requirepass)
    line of the config file; C(CONFIG GET requirepass) keeps reporting the value C(requirepass) had. Manage
    the password of C(default) with this module or with C(requirepass), not both.
  - "Users for Sentinel and replication, tested with Redis 7.0: the user of C(sentinel auth-user) needs on the
    data nodes C(resetchannels &__sentinel__:hello +multi +slaveof +ping +exec +subscribe +config|rewrite +role
    +publish +info +client|setname +client|kill +script|kill) (C(+ping +info +subscribe +publish) with the hello
    channel suffice to monitor, but not to fail over). The user of C(masteruser) needs C(+psync +replconf +ping)."
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.redis_config
  - module: redisops.sentinel.sentinel_monitor
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Create an administrator while the default user still has no password
  redisops.sentinel.redis_acl:
    users:
      - name: admin
        passwords: ["{{ redis_admin_password }}"]
        rules: "~* &* +@all"

- name: Users of the application, Sentinel and replication; disable the default user
  redisops.sentinel.redis_acl:
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    purge: true
    users:
      - name: admin
        passwords: ["{{ redis_admin_password }}"]
        rules: "~* &* +@all"
      - name: app
        passwords: ["{{ app_password_old }}", "{{ app_password }}"]
        rules: "~app:* resetchannels -@all +@read +@write -@dangerous"
      - name: sentinel
        passwords: ["{{ redis_sentinel_user_password }}"]
        rules:
          - resetchannels &__sentinel__:hello
          - +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info
          - +client|setname +client|kill +script|kill
      - name: replication
        passwords: ["{{ redis_replication_password }}"]
        rules: "+psync +replconf +ping"
      - name: default
        enabled: false
  register: acl

- name: Show what changed
  ansible.builtin.debug:
    msg: "created {{ acl.created }}, updated {{ acl.updated }}, removed {{ acl.removed }}"
"""

RETURN = r"""
created:
  description: Names of the users created (in check mode, that would be created), in the order applied.
  returned: always
  type: list
  elements: str
  sample: [app]
updated:
  description: Names of the existing users redefined (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [default]
removed:
  description: Names of the users removed (in check mode, that would be), by O(users[].state=absent) or O(purge).
  returned: always
  type: list
  elements: str
  sample: [olduser]
diff:
  description:
    - The users listed in O(users) and those O(purge) removes, before and after, one block per user.
    - Passwords show as their number, or C(nopass), followed by V((changed\)) when they change.
  returned: always
  type: dict
  contains:
    before:
      description: The users as the server reported them.
      type: str
      sample: "user app: absent\nuser default\n  enabled: true\n  passwords: nopass\n  rules: ~* &* +@all\n"
    after:
      description: The users as declared.
      type: str
      sample: "user app\n  enabled: true\n  passwords: 1\n  rules: sanitize-payload ~app:* resetchannels -@all
        +@read\nuser default\n  enabled: false\n  passwords: nopass\n  rules: sanitize-payload ~* &* +@all\n"
msg:
  description: Human readable outcome.
  returned: always
  type: str
  sample: Created app and updated default on 127.0.0.1:6379, saved with CONFIG REWRITE.
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.redis_acl import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
