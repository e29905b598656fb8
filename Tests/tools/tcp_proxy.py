"""A TCP proxy on loopback for tests: a database that can go away and come back.

Usage: tcp_proxy.py LISTEN_PORT TARGET_PORT PORT_FILE
Forwards every connection to 127.0.0.1:TARGET_PORT. LISTEN_PORT 0 takes any free port; the port
is written to PORT_FILE once listening. On SIGTERM it closes the listener and cuts every
connection at once, as a stopped server would, and exits.
"""
import asyncio
import os
import signal
import sys


async def main():
    # The test runner starts it with SIGTERM blocked, as its own threads have it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
    listen, target, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    open_writers = set()

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        pair = {client_writer, server_writer}
        open_writers.update(pair)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        open_writers.difference_update(pair)

    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
    written = port_file + ".part"
    with open(written, "w") as file:
        file.write(str(server.sockets[0].getsockname()[1]))
    os.rename(written, port_file)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    for writer in open_writers:
        writer.transport.abort()


asyncio.run(main())
