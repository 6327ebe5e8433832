# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories and files of one host, ensured in one pass (the node_files module).

Each entry is a directory, a file with content, or an existing file whose
owner, group and mode are kept. A file with a marker is written only while it
lacks the marker: after its first start the service owns it (Redis and
Sentinel rewrite their configuration files). Content is written to a
temporary file of the same directory, created private, then renamed over the
old file, so no reader ever sees half a file or a secret in a readable file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible.module_utils.common.text.converters import to_bytes, to_text


# The option that lists the entries (node_files's `files`, node_apply's `files`), documented in the
# redisops.sentinel.node_files documentation fragment.
FILES_OPTION: dict[str, Any] = {
    'type': 'list', 'elements': 'dict', 'mutually_exclusive': [('content', 'secret_content')], 'options': {
        'path': {'type': 'path', 'required': True},
        'state': {'type': 'str', 'choices': ['directory', 'file'], 'default': 'file'},
        'content': {'type': 'str'},
        'secret_content': {'type': 'str', 'no_log': True},
        'marker': {'type': 'str'},
        'owner': {'type': 'str'},
        'group': {'type': 'str'},
        'mode': {'type': 'raw'},
    }}


@dataclass
class Outcome:
    """What ensuring one entry did (or would do, in check mode)."""

    path: str
    changed: bool = False
    marked: bool = False       # the file held its marker: left as the service wrote it
    missing: bool = False      # an attributes-only entry whose file does not exist
    diff: Optional[dict[str, str]] = None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.outcomes)

    def result(self, diff: bool = False) -> dict[str, Any]:
        """The module's result; with `diff` (the task's diff mode), the content before and after."""
        result: dict[str, Any] = {
            'changed': self.changed,
            'changed_paths': [o.path for o in self.outcomes if o.changed],
            'marked': [o.path for o in self.outcomes if o.marked],
            'missing': [o.path for o in self.outcomes if o.missing],
        }
        if diff:
            result['diff'] = [o.diff for o in self.outcomes if o.diff is not None]
        return result


def read(path: str) -> Optional[bytes]:
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def file_args(entry: dict[str, Any], path: str) -> dict[str, Any]:
    """The arguments AnsibleModule.set_fs_attributes_if_different expects."""
    return {'path': path, 'owner': entry.get('owner'), 'group': entry.get('group'), 'mode': entry.get('mode'),
            'secontext': [None, None, None, None], 'attributes': None}


def attributes(module: Any, entry: dict[str, Any], path: str, changed: bool) -> bool:
    """Owner, group and mode of an existing path; True when any of them changed (or would)."""
    return module.set_fs_attributes_if_different(file_args(entry, path), changed)


def write(module: Any, entry: dict[str, Any], content: bytes) -> None:
    """Write through a private temporary file in the same directory, then rename it into place."""
    path = entry['path']
    fd, temp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content)
        attributes(module, entry, temp, False)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def directory(module: Any, entry: dict[str, Any]) -> Outcome:
    path = entry['path']
    outcome = Outcome(path)
    if not os.path.isdir(path):
        outcome.changed = True
        if module.check_mode:
            return outcome
        os.makedirs(path, exist_ok=True)
    outcome.changed = attributes(module, entry, path, outcome.changed)
    return outcome


def content_of(entry: dict[str, Any]) -> Optional[bytes]:
    text = entry.get('secret_content')
    if text is None:
        text = entry.get('content')
    return None if text is None else to_bytes(text)


def regular_file(module: Any, entry: dict[str, Any]) -> Outcome:
    path = entry['path']
    outcome = Outcome(path)
    wanted = content_of(entry)
    current = read(path)
    marker = entry.get('marker')
    if marker and current is not None and to_bytes(marker) in current:
        outcome.marked = True
        wanted = None
    if wanted is None:
        if current is None:
            outcome.missing = True
            return outcome
        outcome.changed = attributes(module, entry, path, False)
        return outcome
    if current == wanted:
        outcome.changed = attributes(module, entry, path, False)
        return outcome
    outcome.changed = True
    if entry.get('secret_content') is None:
        outcome.diff = {'before_header': path, 'after_header': path,
                        'before': to_text(current or b''), 'after': to_text(wanted)}
    if not module.check_mode:
        write(module, entry, wanted)
    return outcome


def ensure(module: Any, entries: list[dict[str, Any]]) -> Report:
    """Each entry in order (directories before the files in them)."""
    report = Report()
    for entry in entries:
        handler = directory if entry['state'] == 'directory' else regular_file
        report.outcomes.append(handler(module, entry))
    return report
