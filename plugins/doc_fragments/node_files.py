# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """The list of directories and files that node_files and node_apply ensure (module_utils/files.py)."""

    DOCUMENTATION = r"""
options:
  files:
    description:
      - The directories and files, ensured in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path.
        type: path
        required: true
      state:
        description:
          - V(directory) creates the directory (and its parents) when missing.
          - V(file) writes O(files[].content) or O(files[].secret_content) when given; without either,
            only the owner, group and mode of an existing file are kept (a missing file is reported
            in RV(missing) and left missing).
        type: str
        choices: [directory, file]
        default: file
      content:
        description:
          - The file's content, shown in diffs.
        type: str
      secret_content:
        description:
          - The file's content when it holds a secret, never logged and never shown in diffs.
          - Mutually exclusive with O(files[].content).
        type: str
      marker:
        description:
          - Text that marks the file as written once already; a file that holds it is not rewritten.
        type: str
      owner:
        description:
          - Owner (name or id).
        type: str
      group:
        description:
          - Group (name or id).
        type: str
      mode:
        description:
          - Permissions, as the M(ansible.builtin.file) module takes them (V("0640"), V(u=rw,g=r)).
        type: raw
"""
