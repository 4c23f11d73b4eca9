"""A trigger for the ntop cases: one TCP connection over loopback.

    python3 tcp_loopback.py 4    # 127.0.0.1 -> 127.0.0.2 (a listener on 127.0.0.2)
    python3 tcp_loopback.py 6    # ::1 -> ::1

The listener and the client live in this one process, so every state
change that happens in process context (listen, connect: CLOSE -> SYN_SENT)
carries this process's pid: the cases filter on `pid == cpid`.
"""

import socket
import sys

family = socket.AF_INET6 if sys.argv[1:] == ["6"] else socket.AF_INET
host = "::1" if family == socket.AF_INET6 else "127.0.0.2"

server = socket.socket(family, socket.SOCK_STREAM)
server.bind((host, 0))
server.listen(1)
client = socket.socket(family, socket.SOCK_STREAM)
client.connect((host, server.getsockname()[1]))
accepted, _ = server.accept()
for s in (accepted, client, server):
    s.close()
