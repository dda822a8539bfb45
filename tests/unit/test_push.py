"""Pushing to many WebSocket connections: a client that does not read never holds up the others, and
what piles up for it is only the newest message of each operation."""

from __future__ import annotations

import asyncio

from gql.subscriptions.protocol import TRANSPORT_WS, Connection


class Socket:
    """Records what is sent; while `blocked` is set, a send waits like a socket whose buffer is full."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()
        self.open.set()

    async def send_text(self, text: str) -> None:
        await self.open.wait()
        self.sent.append(text)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_push_to_a_reading_client_is_written_at_once_in_order():
    socket = Socket()
    connection = Connection(socket, TRANSPORT_WS)  # type: ignore[arg-type]
    for n in range(3):
        connection.push("1", f"m{n}")
    assert socket.sent == ["m0", "m1", "m2"] and not connection.busy


async def test_a_client_that_does_not_read_gets_only_the_newest_state_and_holds_up_nobody():
    slow_socket, fast_socket = Socket(), Socket()
    slow_socket.open.clear()
    slow = Connection(slow_socket, TRANSPORT_WS)  # type: ignore[arg-type]
    fast = Connection(fast_socket, TRANSPORT_WS)  # type: ignore[arg-type]
    for n in range(5):
        slow.push("board", f"state {n}")
        slow.push("other", f"other {n}")
        fast.push("board", f"state {n}")
    assert fast_socket.sent == [f"state {n}" for n in range(5)]
    assert slow.busy and slow_socket.sent == []
    assert slow.deferred == {"board": "state 4", "other": "other 4"}  # bounded: one per operation

    slow_socket.open.set()  # the client reads again
    await settle()
    assert slow_socket.sent[0] == "state 0"  # the send that waited, then the newest of each operation
    assert sorted(slow_socket.sent[1:]) == ["other 4", "state 4"]
    assert not slow.busy and slow.deferred == {}
