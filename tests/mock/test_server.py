"""The listening socket the mock binds itself."""

from __future__ import annotations

import asyncio
import socket

from mockserver.server import bind


def test_connections_accepted_under_asyncio_get_tcp_nodelay():
    # asyncio only sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP; without it every
    # answer written in two parts waits ~40 ms for the client's delayed ACK.
    sock = bind("127.0.0.1", 0)
    seen: list[int] = []

    async def main() -> None:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=sock)
        async with server:
            reader, writer = await asyncio.open_connection(*sock.getsockname())
            await reader.read()
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0
