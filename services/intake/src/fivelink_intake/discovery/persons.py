"""De-duplication of the same person across sources.

``resolve_persons(signals, key) -> dict[person_ref, Person]``

A signal names its person by ID number, by phone + name, or both. Signals with the same
ID number are the same person. A phone + name pair that appeared next to exactly one ID
number (on any signal given) is that ID's person; a pair seen with two or more different ID
numbers is ambiguous (a shared family phone, a data error) and stays a person of its own.
The ``person_ref`` is the HMAC ref of the ID number when one is known, else of the pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fivelink_intake.discovery.signals import Signal


@dataclass
class Person:
    """One resolved person: every pseudonymous ref seen for them and their signals."""

    person_ref: str
    refs: set[str] = field(default_factory=set)
    signals: list[Signal] = field(default_factory=list)


def resolve_persons(signals: Iterable[Signal], key: bytes) -> dict[str, Person]:
    """Group signals by person; see the module docstring for the linking rule."""
    keyed = [(s, *s.person_keys(key)) for s in signals]
    ids_of_pair: defaultdict[str, set[str]] = defaultdict(set)
    for _, by_id, by_pair in keyed:
        if by_id and by_pair:
            ids_of_pair[by_pair].add(by_id)
    persons: dict[str, Person] = {}
    for signal, by_id, by_pair in keyed:
        if by_id:
            ref = by_id
        else:
            assert by_pair is not None  # a Signal always has one or the other
            linked = ids_of_pair.get(by_pair, set())
            ref = next(iter(linked)) if len(linked) == 1 else by_pair
        person = persons.setdefault(ref, Person(ref))
        person.refs.update(r for r in (by_id, by_pair) if r)
        person.signals.append(signal)
    return persons
