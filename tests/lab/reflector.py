#!/usr/bin/env python3
"""The lab's address reflector: tells a client the source address it was seen from.

  reflector.py serve ADDRESS PORT      UDP and TCP on ADDRESS:PORT; answers every datagram
                                       (and each TCP connection) with "IP PORT" of the
                                       sender. A UDP datagram "poke" also gets, first, a
                                       datagram "unsolicited" from PORT+1 (same address,
                                       another port): a port-dependent filter drops it.
  reflector.py udp TIMEOUT DEST:PORT.. one UDP socket sends "poke" to each DEST in turn;
                                       prints one line per answer, "FROM_IP FROM_PORT TEXT",
                                       waiting TIMEOUT seconds for each destination.
  reflector.py tcp TIMEOUT DEST PORT   one TCP connection; prints the answer.
Bounded everywhere: every wait has a timeout; the server runs until it is killed.
"""
import selectors
import socket
import sys


def family(address):
    return socket.AF_INET6 if ':' in address else socket.AF_INET


def serve(address, port):
    fam = family(address)
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((address, port))
    other = socket.socket(fam, socket.SOCK_DGRAM)
    other.bind((address, port + 1))
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, port))
    tcp.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ)
    sel.register(tcp, selectors.EVENT_READ)
    print(f'serving {address} {port}', flush=True)
    while True:
        for key, _ in sel.select():
            if key.fileobj is udp:
                data, peer = udp.recvfrom(2048)
                try:
                    # A firewall on this host may refuse the unsolicited one (EPERM).
                    if data == b'poke':
                        other.sendto(b'unsolicited', peer)
                except OSError:
                    pass
                udp.sendto(f'{peer[0]} {peer[1]}'.encode(), peer)
            else:
                conn, peer = tcp.accept()
                with conn:
                    conn.settimeout(2)
                    try:
                        conn.sendall(f'{peer[0]} {peer[1]}'.encode())
                    except OSError:
                        pass


def split(dest):
    host, _, port = dest.rpartition(':')
    return host.strip('[]'), int(port)


def udp_probe(timeout, dests):
    fam = family(split(dests[0])[0])
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    for dest in dests:
        s.sendto(b'poke', split(dest))
        # Everything that arrives within the timeout, from anyone.
        try:
            while True:
                data, peer = s.recvfrom(2048)
                print(peer[0], peer[1], data.decode(), flush=True)
        except socket.timeout:
            pass


def tcp_probe(timeout, host, port):
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        print(s.recv(2048).decode(), flush=True)


if __name__ == '__main__':
    mode = sys.argv[1]
    if mode == 'serve':
        serve(sys.argv[2], int(sys.argv[3]))
    elif mode == 'udp':
        udp_probe(float(sys.argv[2]), sys.argv[3:])
    elif mode == 'tcp':
        tcp_probe(float(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(f'unknown mode {mode}')
