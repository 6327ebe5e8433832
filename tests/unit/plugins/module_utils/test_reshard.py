# -*- coding: utf-8 -*-
"""The answers of a node that gave away its last slot during a move (no server needed: the texts are the
servers' own; the module tests move slots between real Redis nodes)."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.reshard import became_replica


@pytest.mark.parametrize('text', [
    # Redis 7: the node turned into a replica already and refuses SETSLOT.
    'Please use SETSLOT only with masters.',
    # Valkey 8: SETSLOT waited for the node's replicas when the node turned into a replica.
    'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
])
def test_a_node_that_turned_into_a_replica_is_no_error(text: str) -> None:
    assert became_replica(Exception(text))


@pytest.mark.parametrize('text', [
    "I don't know about node 07c37dfeb235213a872192d90877d0cd55635b91",
    'NOAUTH Authentication required.',
    'ERR Slot 0 is already busy',
])
def test_any_other_answer_is_an_error(text: str) -> None:
    assert not became_replica(Exception(text))
