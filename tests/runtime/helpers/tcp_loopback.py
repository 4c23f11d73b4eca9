"""A trigger for the ntop cases: one TCP connection over loopback.

    python3 tcp_loopback.py 4        # 127.0.0.1 -> 127.0.0.2 (a listener on 127.0.0.2)
    python3 tcp_loopback.py 6        # ::1 -> ::1
    python3 tcp_loopback.py mapped   # an IPv6 socket -> ::ffff:127.0.0.2 (the IPv4 listener)

The listener and the client live in this one process, so every state
change that happens in process context (listen, connect: CLOSE -> SYN_SENT)
carries this process's pid: the cases filter on `pid == cpid`.
"""

import socket
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else "4"
if mode == "6":
    server_family, client_family, host, target = socket.AF_INET6, socket.AF_INET6, "::1", "::1"
elif mode == "mapped":
    server_family, client_family, host, target = socket.AF_INET, socket.AF_INET6, "127.0.0.2", "::ffff:127.0.0.2"
else:
    server_family, client_family, host, target = socket.AF_INET, socket.AF_INET, "127.0.0.2", "127.0.0.2"

server = socket.socket(server_family, socket.SOCK_STREAM)
server.bind((host, 0))
server.listen(1)
client = socket.socket(client_family, socket.SOCK_STREAM)
client.connect((target, server.getsockname()[1]))
accepted, _ = server.accept()
for s in (accepted, client, server):
    s.close()
