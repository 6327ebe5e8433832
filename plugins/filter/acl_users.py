# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter acl_users: the ACL users of ACL mode, as redisops.sentinel.redis_acl and redis.conf take them."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import role_users

DOCUMENTATION = r"""
name: acl_users
short_description: The ACL users of a redisops.sentinel data node in ACL mode
version_added: "0.1.0"
description:
  - Takes C(redis_acl_users) (the applications' users) and returns every user the roles declare in ACL
    mode, in the form of the O(redisops.sentinel.redis_acl#module:users) option - the C(default) user,
    the admin, replication and Sentinel users with the rights the roles grant them, then the
    applications' users.
  - The C(default) user is on with O(password) (and O(password_previous)) when O(default_user) is true and
    O(password) is set; else it is off, with no password and only C(+psync +replconf +ping), so that a
    replica link made as the default user before a move to ACL mode stays up until it links again.
  - An empty list when O(enabled) is false.
options:
  _input:
    description: C(redis_acl_users), each with C(name), C(password), C(previous_password) and C(rules).
    type: list
    elements: dict
    required: true
  enabled:
    description: C(redis_acl).
    type: bool
    required: true
  default_user:
    description: C(redis_acl_default_user).
    type: bool
    required: true
  password:
    description: C(redis_password), the default user's password.
    type: str
    required: true
  password_previous:
    description: C(redis_password_previous).
    type: str
    default: ""
  admin:
    description: The admin user's name, password and previous password.
    type: list
    elements: str
    required: true
  replication:
    description: The replication user's name, password and previous password.
    type: list
    elements: str
    required: true
  sentinel:
    description: The Sentinel user's name, password and previous password.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: The users of this data node
  ansible.builtin.set_fact:
    users: >-
      {{ redis_acl_users | redisops.sentinel.acl_users(
           enabled=redis_acl, default_user=redis_acl_default_user, password=redis_password,
           password_previous=redis_password_previous,
           admin=[redis_acl_admin_user, redis_acl_admin_password, redis_acl_admin_password_previous],
           replication=[redis_acl_replication_user, redis_acl_replication_password, ''],
           sentinel=[redis_acl_sentinel_user, redis_acl_sentinel_password, '']) }}
"""

RETURN = r"""
_value:
  description: Each user with C(name), C(enabled), C(passwords) and C(rules).
  type: list
  elements: dict
"""


def acl_users(application_users: list[dict[str, Any]], enabled: bool, default_user: bool, password: str,
              admin: list[str], replication: list[str], sentinel: list[str],
              password_previous: str = '') -> list[dict[str, Any]]:
    if not enabled:
        return []
    logins = {}
    for role, login in (('admin', admin), ('replication', replication), ('sentinel', sentinel)):
        if len(login) != 3:
            raise AnsibleFilterError('acl_users: %s must be [name, password, previous password], got %d items'
                                     % (role, len(login)))
        logins[role] = (str(login[0]), str(login[1] or ''), str(login[2] or ''))
    return role_users(list(application_users or []), bool(default_user), str(password or ''),
                      str(password_previous or ''), logins)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'acl_users': acl_users}
