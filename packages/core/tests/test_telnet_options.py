"""The RFC 1143 Q method: its table, its queue, and no loops between two negotiators."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.protocols.telnet import (
    DO,
    DONT,
    ECHO,
    IAC,
    SGA,
    WILL,
    WONT,
    AlreadyDisabled,
    AlreadyEnabled,
    AlreadyNegotiating,
    NegotiationRefused,
    OptionDisabled,
    OptionEnabled,
    OptionNegotiator,
    PeerMisbehaved,
    QState,
    Queue,
    Side,
)

L, R = Side.LOCAL, Side.REMOTE


def yes(side: Side, option: bytes) -> bool:
    return True


def no(side: Side, option: bytes) -> bool:
    return False


def test_peerOffersAccepted() -> None:
    n = OptionNegotiator()
    assert n.receive(WILL, ECHO, yes) == (IAC + DO + ECHO, [OptionEnabled(R, ECHO, False)])
    assert n.state(R, ECHO) is QState.YES
    # Repeating an enabled option is ignored (no answer: that is what stops loops).
    assert n.receive(WILL, ECHO, yes) == (b"", [])


def test_peerOffersRefused() -> None:
    n = OptionNegotiator()
    assert n.receive(WILL, ECHO, no) == (IAC + DONT + ECHO, [])
    assert n.receive(DO, ECHO, no) == (IAC + WONT + ECHO, [])
    assert n.state(R, ECHO) is QState.NO
    assert n.state(L, ECHO) is QState.NO


def test_acceptIsAskedWithTheSide() -> None:
    asked: list[tuple[Side, bytes]] = []

    def accept(side: Side, option: bytes) -> bool:
        asked.append((side, option))
        return True

    n = OptionNegotiator()
    n.receive(DO, SGA, accept)
    n.receive(WILL, ECHO, accept)
    assert asked == [(L, SGA), (R, ECHO)]


def test_ourRequestAccepted() -> None:
    n = OptionNegotiator()
    assert n.enable(L, ECHO) == IAC + WILL + ECHO
    assert n.state(L, ECHO) is QState.WANTYES
    assert n.receive(DO, ECHO, no) == (b"", [OptionEnabled(L, ECHO, True)])
    assert n.isEnabled(L, ECHO)
    assert n.disable(L, ECHO) == IAC + WONT + ECHO
    assert n.state(L, ECHO) is QState.WANTNO
    assert n.receive(DONT, ECHO, no) == (b"", [OptionDisabled(L, ECHO, True)])
    assert n.state(L, ECHO) is QState.NO


def test_ourRequestRefused() -> None:
    n = OptionNegotiator()
    assert n.enable(R, SGA) == IAC + DO + SGA
    assert n.receive(WONT, SGA, yes) == (b"", [NegotiationRefused(R, SGA)])
    assert n.state(R, SGA) is QState.NO


def test_peerDisables() -> None:
    n = OptionNegotiator()
    n.receive(WILL, ECHO, yes)
    assert n.receive(WONT, ECHO, yes) == (IAC + DONT + ECHO, [OptionDisabled(R, ECHO, False)])
    assert n.receive(WONT, ECHO, yes) == (b"", [])


def test_localMisuse() -> None:
    n = OptionNegotiator()
    with pytest.raises(AlreadyDisabled):
        n.disable(L, ECHO)
    n.enable(L, ECHO)
    with pytest.raises(AlreadyNegotiating):
        n.enable(L, ECHO)
    n.receive(DO, ECHO, yes)
    with pytest.raises(AlreadyEnabled):
        n.enable(L, ECHO)


def test_queueWhileDisabling() -> None:
    n = OptionNegotiator()
    n.receive(WILL, ECHO, yes)
    n.disable(R, ECHO)
    # Re-enabling while the DONT is in flight is queued, not sent.
    assert n.enable(R, ECHO) == b""
    assert n.queue(R, ECHO) is Queue.OPPOSITE
    with pytest.raises(AlreadyNegotiating):
        n.enable(R, ECHO)
    # The WONT answer: disabled, and the queued DO goes out now.
    assert n.receive(WONT, ECHO, no) == (IAC + DO + ECHO, [OptionDisabled(R, ECHO, True)])
    assert n.state(R, ECHO) is QState.WANTYES
    assert n.receive(WILL, ECHO, no) == (b"", [OptionEnabled(R, ECHO, True)])


def test_queueWhileEnablingThenCancelled() -> None:
    n = OptionNegotiator()
    n.enable(L, ECHO)
    assert n.disable(L, ECHO) == b""
    assert n.queue(L, ECHO) is Queue.OPPOSITE
    with pytest.raises(AlreadyNegotiating):
        n.disable(L, ECHO)
    # Changing our mind again empties the queue.
    assert n.enable(L, ECHO) == b""
    assert n.queue(L, ECHO) is Queue.EMPTY


def test_queuedDisableSentOnceEnabled() -> None:
    n = OptionNegotiator()
    n.enable(L, ECHO)
    n.disable(L, ECHO)
    assert n.receive(DO, ECHO, no) == (IAC + WONT + ECHO, [OptionEnabled(L, ECHO, True)])
    assert n.state(L, ECHO) is QState.WANTNO
    assert n.receive(DONT, ECHO, no) == (b"", [OptionDisabled(L, ECHO, True)])


def test_refusalEmptiesTheQueue() -> None:
    n = OptionNegotiator()
    n.enable(R, ECHO)
    n.disable(R, ECHO)
    assert n.receive(WONT, ECHO, yes) == (b"", [NegotiationRefused(R, ECHO)])
    assert (n.state(R, ECHO), n.queue(R, ECHO)) == (QState.NO, Queue.EMPTY)


def test_disableAnsweredByEnable() -> None:
    n = OptionNegotiator()
    n.receive(WILL, ECHO, yes)
    n.disable(R, ECHO)
    out, events = n.receive(WILL, ECHO, yes)
    assert out == b""
    assert isinstance(events[0], PeerMisbehaved)
    assert events[1] == OptionDisabled(R, ECHO, True)
    assert n.state(R, ECHO) is QState.NO


def test_disableAnsweredByEnableWithQueue() -> None:
    n = OptionNegotiator()
    n.receive(WILL, ECHO, yes)
    n.disable(R, ECHO)
    n.enable(R, ECHO)
    out, events = n.receive(WILL, ECHO, yes)
    assert out == b""
    assert events[1] == OptionEnabled(R, ECHO, True)
    assert (n.state(R, ECHO), n.queue(R, ECHO)) == (QState.YES, Queue.EMPTY)


def test_notANegotiationCommand() -> None:
    with pytest.raises(ValueError, match="not a negotiation command"):
        OptionNegotiator().receive(b"\xf1", ECHO, yes)


def test_reset() -> None:
    n = OptionNegotiator()
    n.receive(WILL, ECHO, yes)
    n.reset()
    assert n.state(R, ECHO) is QState.NO


# -- two negotiators, requests crossing in flight: no loops ------------------


def _commands(wire: bytes) -> list[tuple[bytes, bytes]]:
    assert len(wire) % 3 == 0
    return [(wire[i + 1 : i + 2], wire[i + 2 : i + 3]) for i in range(0, len(wire), 3)]


_actions = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from([L, R]),
        st.booleans(),
        st.sampled_from(["request", "deliver"]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_actions, st.booleans(), st.booleans())
def test_noLoopsAndAgreement(
    actions: list[tuple[str, Side, bool, str]], acceptA: bool, acceptB: bool
) -> None:
    """
    Two peers make requests at any time, with messages in flight each way
    (delivered in order, as TCP does).  The number of messages stays bounded
    by the requests made, and once everything is delivered both agree on
    each half of the option.
    """
    peers = {"a": OptionNegotiator(), "b": OptionNegotiator()}
    accept = {"a": (lambda s, o: acceptA), "b": (lambda s, o: acceptB)}
    wires: dict[str, deque[tuple[bytes, bytes]]] = {"a": deque(), "b": deque()}  # to peer
    other = {"a": "b", "b": "a"}
    sent = 0
    requests = 0

    def deliver(to: str) -> None:
        nonlocal sent
        command, option = wires[to].popleft()
        out, _ = peers[to].receive(command, option, accept[to])
        for message in _commands(out):
            wires[other[to]].append(message)
            sent += 1

    for who, side, enable, what in actions:
        if what == "request":
            try:
                out = (peers[who].enable if enable else peers[who].disable)(side, ECHO)
            except (AlreadyEnabled, AlreadyDisabled, AlreadyNegotiating):
                continue
            requests += 1
            for message in _commands(out):
                wires[other[who]].append(message)
                sent += 1
        elif wires[who]:
            deliver(who)
    steps = 0
    while wires["a"] or wires["b"]:
        for to in ("a", "b"):
            if wires[to]:
                deliver(to)
        steps += 1
        assert steps < 1000, "negotiation loop"
    # Each request costs at most a request, an answer and one queued follow-up each.
    assert sent <= 4 * requests
    a, b = peers["a"], peers["b"]
    for side, mirror in ((L, R), (R, L)):
        assert a.state(side, ECHO) in (QState.YES, QState.NO)
        assert a.state(side, ECHO) is b.state(mirror, ECHO)
