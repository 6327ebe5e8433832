# -*- coding: utf-8 -*-
"""The acl_users filter: the users of ACL mode as roles/redis/vars/main.yml declares them."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.filter.acl_users import acl_users
from ansible_collections.redisops.sentinel.plugins.module_utils.acl import (
    ADMIN_RULES, DEFAULT_OFF_RULES, REPLICATION_RULES, SENTINEL_RULES)

LOGINS = dict(admin=['admin', 'a1', ''], replication=['replication', 'r1', 'r0'], sentinel=['sentinel', 's1', ''])


def users(application=(), **options):
    arguments = dict(enabled=True, default_user=True, password='p1', **LOGINS)
    arguments.update(options)
    return acl_users(list(application), **arguments)


def test_off_outside_acl_mode():
    assert users(enabled=False) == []


def test_default_user_on_with_both_passwords_during_a_rotation():
    default, admin, replication, sentinel = users(password_previous='p0')
    assert default == dict(name='default', enabled=True, passwords=['p1', 'p0'], rules=ADMIN_RULES)
    assert admin == dict(name='admin', enabled=True, passwords=['a1'], rules=ADMIN_RULES)
    assert replication == dict(name='replication', enabled=True, passwords=['r1', 'r0'], rules=REPLICATION_RULES)
    assert sentinel['rules'] == SENTINEL_RULES and sentinel['passwords'] == ['s1']


@pytest.mark.parametrize('options', [dict(default_user=False), dict(password='')])
def test_default_user_off_keeps_only_the_replication_commands(options):
    default = users(**options)[0]
    assert default == dict(name='default', enabled=False, passwords=[], rules=DEFAULT_OFF_RULES)
    assert DEFAULT_OFF_RULES == '+psync +replconf +ping'


def test_application_users_follow_with_their_rules_and_previous_password():
    application = [dict(name='app', password='x1', previous_password='x0', rules='~app:* +@read'),
                   dict(name='nopass', rules=['~tmp:*', '+get']),
                   dict(name='noprevious', password='y1', previous_password='', rules='')]
    app, nopass, noprevious = users(application=application)[4:]
    assert app == dict(name='app', enabled=True, passwords=['x1', 'x0'], rules='~app:* +@read')
    assert nopass == dict(name='nopass', enabled=True, passwords=[], rules=['~tmp:*', '+get'])
    assert noprevious == dict(name='noprevious', enabled=True, passwords=['y1'], rules='')


def test_a_login_needs_its_three_items():
    with pytest.raises(AnsibleFilterError, match='admin must be'):
        users(admin=['admin', 'a1'])
