"""Pushing to many WebSocket connections: a client that does not read never holds up the others, what
piles up for it is bounded, and a send that had to wait is finished, not lost."""

from __future__ import annotations

import asyncio

from starlette.websockets import WebSocketState

from gql.subscriptions.protocol import SLOW_CONSUMER, TRANSPORT_WS, Connection


class Socket:
    """Records what is sent; while `open` is clear, a send waits like a socket whose buffer is full."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        self.open = asyncio.Event()
        self.open.set()
        self.application_state = WebSocketState.CONNECTED

    async def send_text(self, text: str) -> None:
        await self.open.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.application_state = WebSocketState.DISCONNECTED
        await self.open.wait()
        self.closed_with = (code, reason)


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
    assert list(slow.waiting.values()) == ["other 4", "state 4"]  # bounded: one per operation

    slow_socket.open.set()  # the client reads again
    await settle()
    assert slow_socket.sent == ["state 0", "other 4", "state 4"]  # the send that waited, then the newest
    assert not slow.busy and slow.waiting == {}


async def test_a_send_that_waits_while_the_writer_already_runs_is_finished_and_what_waited_follows():
    """The writer task starts while the send it finishes is still waiting for the client (the usual
    case with a real socket); it must wait for it as a task would, not mark the connection closed."""
    socket = Socket()
    socket.open.clear()
    connection = Connection(socket, TRANSPORT_WS)  # type: ignore[arg-type]
    connection.push("", "ping")
    await settle()  # the writer runs and waits
    connection.push("board", "state 1")
    assert connection.busy and not connection.closed and socket.sent == []

    socket.open.set()
    await settle()
    assert socket.sent == ["ping", "state 1"] and not connection.busy and not connection.closed
    connection.push("board", "state 2")
    assert socket.sent[-1] == "state 2"  # written at once again


async def test_messages_sent_while_the_client_is_behind_go_out_in_order_after_it_catches_up():
    socket = Socket()
    socket.open.clear()
    connection = Connection(socket, TRANSPORT_WS)  # type: ignore[arg-type]
    for n in range(3):
        await connection.send_raw(f"event {n}")  # returns at once: nobody waits for this client
        connection.push("", "ping")
    socket.open.set()
    await settle()
    assert socket.sent == ["event 0", "ping", "event 1", "event 2"]  # one ping (the newest), where the first one waited


async def test_more_waiting_messages_than_the_limit_close_the_connection_with_4008_after_the_one_being_written():
    socket = Socket()
    socket.open.clear()
    connection = Connection(socket, TRANSPORT_WS, limit=3)  # type: ignore[arg-type]
    operation = asyncio.get_running_loop().create_future()
    connection.operations["1"] = operation  # type: ignore[assignment]
    for n in range(5):
        await connection.send_raw(f"event {n}")
        await settle()
    assert connection.closed and connection.waiting == {} and operation.cancelled()
    await connection.send_raw("after the close")

    socket.open.set()  # the client reads again: the message that was being written, then the close
    await settle()
    assert socket.sent == ["event 0"]
    assert socket.closed_with is not None and socket.closed_with[0] == SLOW_CONSUMER
    assert "since" in socket.closed_with[1] and not connection.busy


async def test_a_send_that_fails_unexpectedly_is_logged_and_closes_the_connection(caplog):
    class Failing(Socket):
        async def send_text(self, text: str) -> None:
            await self.open.wait()
            raise RuntimeError("the send broke")

    socket = Failing()
    socket.open.clear()
    connection = Connection(socket, TRANSPORT_WS)  # type: ignore[arg-type]
    await connection.send_raw("event")
    await settle()
    socket.open.set()
    await settle()
    assert "the send broke" in caplog.text
    assert connection.closed and socket.closed_with is not None and socket.closed_with[0] == 4500
