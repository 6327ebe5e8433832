# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles write on platforms the molecule scenarios cannot run.

The RedHat family (Rocky/Alma 9 with Redis, RHEL 10 with Valkey) has no
image here: tests/unit/roles/files/render.yml loads the roles' OS settings
with that family's facts and renders the bootstrap configurations and the
systemd drop-ins, and these tests check every path, unit and label in them
against the distribution's packaging. Debian is rendered too, as the
baseline the scenarios run for real.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[3]
PLAYBOOK = Path(__file__).resolve().parent / 'files' / 'render.yml'


@dataclass(frozen=True)
class Platform:
    family: str
    distribution: str
    major: str
    flavor: str
    # What the distribution's packages use.
    package: str
    server_unit: str
    sentinel_unit: str
    config: str
    pidfile: str
    logfile: str
    data_dir: str
    user: str
    selinux_type: str


PLATFORMS = {
    'debian12-redis': Platform('Debian', 'Debian', '12', 'redis', 'redis-server', 'redis-server', 'redis-sentinel',
                               '/etc/redis/redis.conf', '/run/redis/redis-server.pid', '/var/log/redis/redis-server.log',
                               '/var/lib/redis', 'redis', ''),
    'debian13-valkey': Platform('Debian', 'Debian', '13', 'valkey', 'valkey-server', 'valkey-server', 'valkey-sentinel',
                                '/etc/valkey/valkey.conf', '/run/valkey/valkey-server.pid', '/var/log/valkey/valkey-server.log',
                                '/var/lib/valkey', 'valkey', ''),
    'rocky9-redis': Platform('RedHat', 'Rocky', '9', 'redis', 'redis', 'redis', 'redis-sentinel',
                             '/etc/redis/redis.conf', '/run/redis/redis.pid', '/var/log/redis/redis.log',
                             '/var/lib/redis', 'redis', 'redis_port_t'),
    'rhel10-valkey': Platform('RedHat', 'RedHat', '10', 'valkey', 'valkey', 'valkey', 'valkey-sentinel',
                              '/etc/valkey/valkey.conf', '/run/valkey/valkey.pid', '/var/log/valkey/valkey.log',
                              '/var/lib/valkey', 'valkey', 'redis_port_t'),
}


def render(tmp_path: Path, family: str, distribution: str, major: str, flavor: str,
           **extra: object) -> subprocess.CompletedProcess:
    facts = {'os_family': family, 'distribution': distribution, 'distribution_major_version': major,
             'all_ipv4_addresses': ['10.0.0.12']}
    extra_vars = dict({'ansible_facts': facts, 'redis_flavor': flavor, 'render_dir': str(tmp_path),
                       'redis_address': '10.0.0.12', 'redis_master_host': '10.0.0.11',
                       'ansible_python_interpreter': str(Path(sys.executable).absolute())}, **extra)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / 'playbooks' / 'collections'), ANSIBLE_NOCOLOR='1',
               REDISOPS_ROLE_TEMPLATES=str(TOP / 'roles' / 'redis' / 'templates'))
    return subprocess.run(['ansible-playbook', '-i', 'localhost,', str(PLAYBOOK), '-e', json.dumps(extra_vars)],
                          capture_output=True, text=True, env=env, check=False)


def conf(path: Path) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in path.read_text().splitlines() if line and not line.startswith('#'))
    return {pair[0]: pair[1] if len(pair) > 1 else '' for pair in pairs}


@pytest.fixture(scope='module', params=sorted(PLATFORMS))
def rendered(request, tmp_path_factory) -> tuple[Platform, Path]:
    platform = PLATFORMS[request.param]
    out = tmp_path_factory.mktemp(request.param)
    result = render(out, platform.family, platform.distribution, platform.major, platform.flavor)
    assert result.returncode == 0, result.stdout + result.stderr
    return platform, out


def test_settings_follow_the_packaging(rendered):
    platform, out = rendered
    settings = json.loads((out / 'settings.json').read_text())
    assert settings['server_service'] == platform.server_unit
    assert settings['sentinel_service'] == platform.sentinel_unit
    assert settings['server_package'] == platform.package
    assert settings['config_file'] == platform.config
    assert settings['tls_dir'] == str(Path(platform.config).parent / 'tls')
    assert settings['user'] == settings['group'] == platform.user
    assert settings['selinux_port_type'] == platform.selinux_type
    assert bool(settings['selinux_packages']) == bool(platform.selinux_type)


def test_redis_conf_uses_the_platform_paths(rendered):
    platform, out = rendered
    lines = conf(out / 'redis.conf')
    assert lines['pidfile'] == platform.pidfile
    assert lines['logfile'] == platform.logfile
    assert lines['dir'] == platform.data_dir
    assert lines['replicaof'] == '10.0.0.11 6379'


def test_sentinel_conf_uses_the_platform_paths(rendered):
    platform, out = rendered
    lines = conf(out / 'sentinel.conf')
    assert lines['dir'] == platform.data_dir + '/sentinel'
    assert lines['logfile'].startswith(str(Path(platform.logfile).parent) + '/')
    text = (out / 'sentinel.conf').read_text()
    assert 'sentinel monitor mymaster 10.0.0.11 6379 ' in text
    assert 'sentinel deny-scripts-reconfig yes\n' in text


def test_dropins_let_the_units_write_their_paths(rendered):
    platform, out = rendered
    server = (out / 'server.dropin.conf').read_text()
    for path in (platform.data_dir, str(Path(platform.logfile).parent), str(Path(platform.config).parent)):
        assert 'ReadWritePaths=-%s\n' % path in server
    assert 'ReadWritePaths=-%s/sentinel\n' % platform.data_dir in (out / 'sentinel.dropin.conf').read_text()
    assert 'UMask=0027' in server


@pytest.mark.parametrize('family,distribution,flavor', [('Suse', 'SLES', 'redis'), ('Debian', 'Debian', 'keydb')])
def test_an_unknown_platform_is_refused_by_name(tmp_path, family, distribution, flavor):
    result = render(tmp_path, family, distribution, '15', flavor)
    assert result.returncode != 0
    assert 'the roles know the Debian and RedHat families with the flavours redis and valkey' in result.stdout
    assert not (tmp_path / 'redis.conf').exists()


@pytest.mark.parametrize('flavor,unit,conf_dir', [('redis', 'redis-server', 'redis'), ('valkey', 'valkey-server', 'valkey')])
def test_a_second_server_on_a_host_gets_its_own_unit_and_files(tmp_path, flavor, unit, conf_dir):
    result = render(tmp_path, 'Debian', 'Debian', '13', flavor, redis_instance='6380', redis_port=6380)
    assert result.returncode == 0, result.stdout + result.stderr
    settings = json.loads((tmp_path / 'settings.json').read_text())
    assert settings['server_service'] == '%s@6380' % unit
    assert settings['config_file'] == '/etc/%s/%s-6380.conf' % (conf_dir, 'redis' if flavor == 'redis' else 'valkey')
    lines = conf(tmp_path / 'redis.conf')
    assert lines['pidfile'] == '/run/%s-6380/%s.pid' % (conf_dir, unit)
    assert lines['dir'] == '/var/lib/%s/6380' % conf_dir
    assert lines['logfile'] == '/var/log/%s/%s-6380.log' % (conf_dir, unit)
    assert lines['port'] == '6380'
    assert 'ReadWritePaths=-/var/lib/%s/6380\n' % conf_dir in (tmp_path / 'server.dropin.conf').read_text()
