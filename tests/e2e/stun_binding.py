#!/usr/bin/env python3
"""One STUN Binding request over TCP (or TLS with --tls), for the e2e tests.

Usage: stun_binding.py HOST PORT LOCAL_IP [--tls CAFILE] [--prefix HEX]
Binds LOCAL_IP, optionally sends raw bytes (--prefix, e.g. a PROXY header) first,
then a Binding request, and prints "local=IP:PORT mapped=IP:PORT" from the
XOR-MAPPED-ADDRESS of the answer, or "closed" when the server closes first.
Every wait is bounded (5 s)."""
import os, socket, ssl, struct, sys

MAGIC = 0x2112A442


def main():
    host, port, local_ip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = sys.argv[4:]
    cafile = args[args.index('--tls') + 1] if '--tls' in args else None
    prefix = bytes.fromhex(args[args.index('--prefix') + 1]) if '--prefix' in args else b''
    s = socket.create_connection((host, port), timeout=5, source_address=(local_ip, 0))
    local = s.getsockname()
    if prefix:
        s.sendall(prefix)
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        try:
            s = ctx.wrap_socket(s, server_hostname='localhost')
        except (ssl.SSLError, OSError):
            print('closed')
            return
    txid = os.urandom(12)
    try:
        s.sendall(struct.pack('!HHI', 0x0001, 0, MAGIC) + txid)
        data = b''
        while len(data) < 20 or len(data) < 20 + struct.unpack('!H', data[2:4])[0]:
            chunk = s.recv(4096)
            if not chunk:
                print('closed')
                return
            data += chunk
    except (ConnectionError, ssl.SSLError, socket.timeout):
        print('closed')
        return
    at, end = 20, 20 + struct.unpack('!H', data[2:4])[0]
    while at + 4 <= end:
        t, n = struct.unpack('!HH', data[at:at + 4])
        v = data[at + 4:at + 4 + n]
        if t == 0x0020 and v[1] == 1:
            mport = struct.unpack('!H', v[2:4])[0] ^ (MAGIC >> 16)
            mip = socket.inet_ntoa(bytes(a ^ b for a, b in zip(v[4:8], struct.pack('!I', MAGIC))))
            print('local=%s:%d mapped=%s:%d' % (local[0], local[1], mip, mport))
            return
        at += 4 + n + (-n % 4)
    print('no-mapped-address')


main()
