# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_state against this machine's real package database and real files."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.redisops.sentinel.plugins.modules import host_state

pytestmark = pytest.mark.skipif(shutil.which('dpkg-query') is None and shutil.which('rpm') is None,
                                reason='needs a Debian or RedHat package database')

# Installed on every machine of either family.
PRESENT = 'dpkg' if shutil.which('dpkg-query') else 'rpm'


def test_missing_packages_in_the_order_given(run_module):
    failed, result = run_module(host_state.main, {'packages': ['redisops-no-such-package', PRESENT, 'redisops-nor-this']})
    assert not failed and not result['changed']
    assert result['missing_packages'] == ['redisops-no-such-package', 'redisops-nor-this']


def test_nothing_asked_nothing_missing(run_module):
    failed, result = run_module(host_state.main, {}, check_mode=True)
    assert not failed and result['missing_packages'] == [] and result['marked'] == []


def test_marked_files(run_module, tmp_path):
    ours, packaged = tmp_path / 'sentinel.conf', tmp_path / 'packaged.conf'
    ours.write_text('# redisops.sentinel: bootstrap configuration\nport 26379\n')
    packaged.write_text('port 26379\n')
    markers = {str(p): 'redisops.sentinel: bootstrap configuration' for p in (ours, packaged, tmp_path / 'absent.conf')}
    failed, result = run_module(host_state.main, {'markers': markers})
    assert not failed and result['marked'] == [str(ours)]


# The molecule scenarios run it against real units on every converge.
@pytest.mark.skipif(not os.path.isdir('/run/systemd/system'), reason='needs systemd as init')
def test_units_of_a_machine_without_them(run_module):
    failed, result = run_module(host_state.main, {'units': ['redisops-no-such.service', 'redisops-nor-this.service']})
    assert not failed
    assert result['units'] == {'redisops-no-such.service': {'enabled': False, 'active': False},
                               'redisops-nor-this.service': {'enabled': False, 'active': False}}
