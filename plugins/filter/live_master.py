# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter live_master: who is the master of one group now, or why the roles must not act."""

from __future__ import annotations

from typing import Any

from ansible_collections.redisops.sentinel.plugins.module_utils.address import parse_address
from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import (
    Vote,
    agreed_master,
    is_majority,
    known_sentinels,
    masters_seen,
    moving,
    tilted,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.topology import DEFAULT_PORT

DOCUMENTATION = r"""
name: live_master
short_description: Decide the current master of a master group from a topology_info report
version_added: "0.1.0"
description:
  - Takes one element of the C(groups) list that M(redisops.sentinel.topology_info) returns and
    decides which node is the master now, the way the roles follow the live topology.
  - Sentinels that do not answer, or that monitor a master on loopback (the packaged default
    configuration), do not count. When none counts, the group does not run yet and C(master) is
    null.
  - Otherwise a majority of the Sentinels that know the group must answer and agree on one master,
    none of them in TILT, no failover in progress and the master not objectively down, and the
    master itself must answer with role master. When that does not hold, C(problem) says why and
    what to do.
options:
  _input:
    description: One group report of M(redisops.sentinel.topology_info).
    type: dict
    required: true
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Follow the master the Sentinels agree on
  ansible.builtin.set_fact:
    verdicts: "{{ topology.groups | map('redisops.sentinel.live_master') | list }}"
"""

RETURN = r"""
_value:
  description: C(name), C(master) (a dict with C(host) and C(port), or null) and C(problem) (a sentence, or null).
  type: dict
"""

LOOPBACK_PREFIXES = ('127.', '[::1]:', '::1:', 'localhost:')


def counted(votes: list[Vote]) -> list[Vote]:
    """The Sentinels that count: they answer and follow a master not on loopback (the packaged default configuration)."""
    return [vote for vote in votes if vote.answered and vote.master and not vote.master.startswith(LOOPBACK_PREFIXES)]


def transition_problem(name: str, votes: list[Vote], asked: list[Vote]) -> str | None:
    """Why the view of the Sentinels that count (``votes``, of all ``asked``) cannot be trusted right now, or None."""
    tilt = tilted(votes)
    if tilt:
        return ('Sentinel(s) %s are in TILT mode (a clock jump or an overload): wait until TILT ends, 30 s after '
                'its cause, and run again.' % ', '.join(tilt))
    moved = moving(votes)
    if moved:
        return ('a failover is in progress or the master is objectively down (seen by %s): wait until the '
                'Sentinels agree on a master again, and run again.' % ', '.join(moved))
    if agreed_master(votes) is None:
        return ('the Sentinels disagree about the master (%s): fix the network between them and wait until they '
                'agree.' % ' vs '.join(masters_seen(votes)))
    known = known_sentinels(votes)
    if not is_majority(len(votes), known):
        silent = [vote.address for vote in asked if not vote.answered]
        return ('only %d of the %d Sentinels that know %s answered (%s): a majority must answer before the roles '
                'trust their view of the master. Check the Sentinels that did not: %s.'
                % (len(votes), known, name, ', '.join(vote.address for vote in votes),
                   ', '.join(silent) or 'see playbooks/status.yml'))
    return None


# How describe_error (module_utils/wait.py) reports a refused password: AuthenticationError (redis-py 5+),
# or the server's reply as a ResponseError (redis-py 4.3, Debian 12).
REFUSED_PASSWORD = ('AuthenticationError:', 'ResponseError: WRONGPASS')


def password_problem(name: str, master: str, nodes: list[dict[str, Any]]) -> str | None:
    """The inventory's data-node password is refused by the master: a password change, not a transition."""
    node = next((node for node in nodes if node.get('address') == master), None)
    if node is None or not str(node.get('error') or '').startswith(REFUSED_PASSWORD):
        return None
    return ('The master %s of %s refuses the password of the inventory (WRONGPASS): the inventory\'s password '
            '(redis_password, or redis_acl_admin_password in ACL mode) is not the one the servers use. Nothing was '
            'changed. To rotate a password, keep the old one as redis_password_previous (or '
            'redis_acl_admin_password_previous) while the run changes it, and remove that variable once the clients '
            'use the new one: see the password rotation runbook in docs/operations.md. To move a one-password '
            'topology to ACL mode, keep redis_password and redis_acl_default_user true in the first run (Move from '
            'one password to ACL mode, docs/operations.md).' % (master, name))


def master_problem(master: str, nodes: list[dict[str, Any]]) -> str | None:
    node = next((node for node in nodes if node.get('address') == master), None)
    if node is None or not node.get('reachable'):
        error = (node or {}).get('error') or 'not asked'
        return ('the Sentinels agree on master %s, but it does not answer from the host that asked: %s.'
                % (master, error))
    if node.get('role') != 'master':
        return ('the Sentinels agree on master %s, but it reports role %s: a reconfiguration is under way; wait '
                'and run again.' % (master, node.get('role')))
    return None


def live_master(group: dict[str, Any]) -> dict[str, Any]:
    name = group.get('name')
    asked = [Vote.from_row(row) for row in group.get('sentinels') or []]
    votes = counted(asked)
    verdict: dict[str, Any] = dict(name=name, master=None, problem=None)
    if not votes:
        return verdict
    master = agreed_master(votes)
    problem = transition_problem(name, votes, asked)
    refused = None if problem else password_problem(name, master, group.get('nodes') or [])
    problem = problem or master_problem(master, group.get('nodes') or [])
    if refused:
        verdict['problem'] = refused
    elif problem:
        verdict['problem'] = 'The running topology of %s must not be changed now: %s' % (name, problem)
    else:
        verdict['master'] = parse_address(master, DEFAULT_PORT)._asdict()
    return verdict


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'live_master': live_master}
