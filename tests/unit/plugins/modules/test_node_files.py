# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_files on a real file system: directories, files, markers, secrets, check mode."""
from __future__ import annotations

import stat
from pathlib import Path

from ansible_collections.redisops.sentinel.plugins.modules import node_files


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def entries(tmp_path: Path, conf: str = 'port 6379\n') -> list[dict]:
    return [
        {'path': str(tmp_path / 'etc/redis'), 'state': 'directory', 'mode': '2770'},
        {'path': str(tmp_path / 'etc/redis/redis.conf'), 'content': conf, 'marker': '# ours', 'mode': '0640'},
        {'path': str(tmp_path / 'etc/redis/guard.json'), 'secret_content': '{"password": "s3cret"}', 'mode': '0600'},
    ]


def test_check_mode_then_create_then_nothing_to_do(run_module, tmp_path):
    files = entries(tmp_path, '# ours\nport 6379\n')
    failed, result = run_module(node_files.main, {'files': files, '_ansible_diff': True}, check_mode=True)
    assert not failed and result['changed']
    assert not (tmp_path / 'etc').exists()

    failed, result = run_module(node_files.main, {'files': files, '_ansible_diff': True})
    assert not failed
    assert result['changed_paths'] == [f['path'] for f in files]
    assert mode(tmp_path / 'etc/redis') == 0o2770
    assert mode(tmp_path / 'etc/redis/guard.json') == 0o600
    assert (tmp_path / 'etc/redis/redis.conf').read_text() == '# ours\nport 6379\n'
    # The secret's file is never in a diff; the other file is.
    assert [d['after_header'] for d in result['diff']] == [files[1]['path']]
    assert 's3cret' not in repr(result)

    failed, result = run_module(node_files.main, {'files': files})
    assert not failed and not result['changed'] and result['changed_paths'] == []
    assert result['marked'] == [files[1]['path']]


def test_marked_file_is_left_to_the_service_but_kept_private(run_module, tmp_path):
    conf = tmp_path / 'etc/redis/redis.conf'
    run_module(node_files.main, {'files': entries(tmp_path, '# ours\nport 6379\n')})
    conf.write_text('# ours\nport 6379\nreplicaof 10.0.0.9 6379\n')   # as CONFIG REWRITE leaves it
    conf.chmod(0o644)
    failed, result = run_module(node_files.main, {'files': entries(tmp_path, '# ours\nport 7000\n')})
    assert not failed and result['changed_paths'] == [str(conf)]
    assert 'replicaof 10.0.0.9' in conf.read_text() and mode(conf) == 0o640


def test_unmarked_file_is_replaced(run_module, tmp_path):
    conf = tmp_path / 'etc/redis/redis.conf'
    conf.parent.mkdir(parents=True)
    conf.write_text('port 6379\n')   # the packaged file
    failed, result = run_module(node_files.main, {'files': entries(tmp_path, '# ours\nport 7000\n')})
    assert not failed and str(conf) in result['changed_paths']
    assert conf.read_text() == '# ours\nport 7000\n'
    assert not [p for p in conf.parent.iterdir() if p.name.startswith('.redis.conf.')]


def test_attributes_only_entry(run_module, tmp_path):
    present = tmp_path / 'present.conf'
    present.write_text('x')
    present.chmod(0o644)
    files = [{'path': str(present), 'mode': '0640'}, {'path': str(tmp_path / 'absent.conf'), 'mode': '0640'}]
    failed, result = run_module(node_files.main, {'files': files})
    assert not failed and result['changed_paths'] == [str(present)]
    assert result['missing'] == [str(tmp_path / 'absent.conf')]
    assert mode(present) == 0o640 and present.read_text() == 'x'
    assert not (tmp_path / 'absent.conf').exists()


def test_content_and_secret_content_exclude_each_other(run_module, tmp_path):
    files = [{'path': str(tmp_path / 'f'), 'content': 'a', 'secret_content': 'b'}]
    failed, result = run_module(node_files.main, {'files': files})
    assert failed and 'mutually exclusive' in result['msg']
