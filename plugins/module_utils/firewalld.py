# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP ports of a firewalld zone, through firewalld's own Python client.

One source for what "open" means, read by host_state (which ports a re-run
would still have to open) and acted on by firewalld_ports. Each query and
addition is one call that firewalld makes on its side, so several servers of
one machine (redis_instance) open their ports at the same moment without
overwriting each other, which reading the zone's permanent settings and
writing them back would.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

PROTOCOL = 'tcp'


def add(call: Callable[[], Any]) -> None:
    """One port added; another run on the same machine may have added it a moment before."""
    try:
        call()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # firewalld's client raises its own or D-Bus errors; only this one means "done".
        if 'ALREADY_ENABLED' not in str(exc):
            raise


class Opening:
    """One port, open to everyone or (a rich rule) to one source."""

    def __init__(self, port: int, source: Optional[str]) -> None:
        self.number = str(port)
        self.source = source

    @property
    def rule(self) -> str:
        family = 'ipv6' if ':' in (self.source or '') else 'ipv4'
        return 'rule family="%s" source address="%s" port port="%s" protocol="%s" accept' % (
            family, self.source, self.number, PROTOCOL)

    def in_runtime(self, fw, zone: str) -> bool:
        if self.source is None:
            return fw.queryPort(zone, self.number, PROTOCOL)
        return fw.queryRichRule(zone, self.rule)

    def in_permanent(self, permanent_zone) -> bool:
        if self.source is None:
            return permanent_zone.queryPort(self.number, PROTOCOL)
        return permanent_zone.queryRichRule(self.rule)

    def add_runtime(self, fw, zone: str) -> None:
        if self.source is None:
            add(lambda: fw.addPort(zone, self.number, PROTOCOL, 0))
        else:
            add(lambda: fw.addRichRule(zone, self.rule, 0))

    def add_permanent(self, permanent_zone) -> None:
        if self.source is None:
            add(lambda: permanent_zone.addPort(self.number, PROTOCOL))
        else:
            add(lambda: permanent_zone.addRichRule(self.rule))

    def entry(self, runtime: bool, permanent: bool) -> dict:
        entry = {'port': '%s/%s' % (self.number, PROTOCOL), 'runtime': runtime, 'permanent': permanent}
        if self.source is not None:
            entry['source'] = self.source
        return entry


def openings(ports: list[int], sources: list[str]) -> list[Opening]:
    """Every port for every source (no source: open to everyone)."""
    return [Opening(port, source) for source in (sources or [None]) for port in sorted(set(ports))]


def client():
    """firewalld's client, connected; None when its Python bindings are missing. Raises when it does not answer."""
    try:
        from firewall.client import FirewallClient
    except ImportError:
        return None
    fw = FirewallClient()
    if not fw.connected:
        raise RuntimeError('firewalld runs but does not answer on D-Bus.')
    return fw


def closed(fw, zone: str, wanted: list[Opening]) -> tuple[Any, list[tuple[Opening, bool, bool]]]:
    """The zone's permanent settings, and each opening missing from the running firewall or from them, with where."""
    permanent_zone = fw.config().getZoneByName(zone)
    missing = []
    for opening in wanted:
        runtime = not opening.in_runtime(fw, zone)
        permanent = not opening.in_permanent(permanent_zone)
        if runtime or permanent:
            missing.append((opening, runtime, permanent))
    return permanent_zone, missing


def entries(missing: list[tuple[Opening, bool, bool]]) -> list[dict]:
    """What closed() found, as firewalld_ports reports it (and host_state's firewalld_closed)."""
    return [opening.entry(runtime, permanent) for opening, runtime, permanent in missing]


def ensure(fw, zone: str, wanted: list[Opening], check_mode: bool) -> list[dict]:
    """Open what is missing; the entries opened (or that would be)."""
    permanent_zone, missing = closed(fw, zone, wanted)
    if not check_mode:
        for opening, runtime, permanent in missing:
            if runtime:
                opening.add_runtime(fw, zone)
            if permanent:
                opening.add_permanent(permanent_zone)
    return entries(missing)
