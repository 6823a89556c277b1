#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (seed-*; crash regression
inputs are named regression-* and are never touched). Run from anywhere:
    python3 tests/fuzz/make_seeds.py
Seeds are committed; this script documents how they were made. DTLS ClientHellos
come from a real `openssl s_client` talking to a UDP socket on 127.0.0.1."""
import hashlib, hmac, os, re, socket, struct, subprocess, sys, time, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, 'corpus')
MAGIC = 0x2112A442
KEY = bytes(range(1, 17))  # the stun_decode target's key

def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)

def attr(t, v):
    return struct.pack('!HH', t, len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)

def xaddr(t, ip, port, txid):
    a = socket.inet_pton(socket.AF_INET6 if ':' in ip else socket.AF_INET, ip)
    fam = 2 if len(a) == 16 else 1
    key = struct.pack('!I', MAGIC) + txid
    xa = bytes(x ^ y for x, y in zip(a, key))
    return attr(t, struct.pack('!BBH', 0, fam, port ^ (MAGIC >> 16)) + xa)

def message(method, cls, attrs, txid, mi=None, sha=None, fp=False):
    typ = (method & 0xF80) << 2 | (method & 0x70) << 1 | (method & 0xF) | (cls & 2) << 7 | (cls & 1) << 4
    body = b''.join(attrs)
    def hdr(length):
        return struct.pack('!HHI', typ, length, MAGIC) + txid
    if mi is not None:
        body += attr(0x0008, hmac.new(mi, hdr(len(body) + 24) + body, hashlib.sha1).digest())
    if sha is not None:
        body += attr(0x001C, hmac.new(sha, hdr(len(body) + 36) + body, hashlib.sha256).digest())
    if fp:
        crc = zlib.crc32(hdr(len(body) + 8) + body) ^ 0x5354554E
        body += attr(0x8028, struct.pack('!I', crc))
    return hdr(len(body)) + body

def rfc5769_vectors():
    text = open(os.path.join(ROOT, 'tests/vectors/rfc5769.h')).read()
    for name, body in re.findall(r'std::array<uint8_t, \d+> (k\w+) = \{(.*?)\};', text, re.S):
        if name == 'kTransactionId':
            continue
        yield name, bytes(int(x, 16) for x in re.findall(r'0x([0-9a-fA-F]{2})', body))

def turn_messages():
    tx = lambda i: bytes([i]) * 12
    auth = [attr(0x0006, b'1767225600:alice'), attr(0x0014, b'example.org'), attr(0x0015, b'nonce-1234567890')]
    peer = lambda i: xaddr(0x0012, '192.0.2.1', 5000 + i, tx(i))
    yield 'binding', message(0x001, 0, [], tx(1))
    yield 'binding-fp', message(0x001, 0, [], tx(2), fp=True)
    yield 'allocate-unauth', message(0x003, 0, [attr(0x0019, b'\x11\0\0\0')], tx(3))
    yield 'allocate-auth', message(0x003, 0, [attr(0x0019, b'\x11\0\0\0'), attr(0x0018, b'\x80')] + auth, tx(4), mi=KEY, fp=True)
    yield 'allocate-sha256', message(0x003, 0, [attr(0x0019, b'\x11\0\0\0')] + auth, tx(5), sha=KEY + KEY)
    yield 'allocate-dual', message(0x003, 0, [attr(0x0019, b'\x11\0\0\0'), attr(0x8000, b'\x02\0\0\0')] + auth, tx(6), mi=KEY)
    yield 'permission', message(0x008, 0, [peer(7), xaddr(0x0012, '2001:db8::1', 9, tx(7))] + auth, tx(7), mi=KEY, fp=True)
    yield 'channel-bind', message(0x009, 0, [attr(0x000C, b'\x40\x01\0\0'), peer(8)] + auth, tx(8), mi=KEY)
    yield 'refresh', message(0x004, 0, [attr(0x000D, struct.pack('!I', 600))] + auth, tx(9), mi=KEY)
    yield 'send', message(0x006, 1, [peer(10), attr(0x0013, b'hello peer')], tx(10))
    yield 'connect', message(0x00A, 0, [peer(11)] + auth, tx(11), mi=KEY)
    yield 'after-mi', message(0x003, 0, [attr(0x0019, b'\x11\0\0\0')] + auth, tx(12), mi=KEY) + b''
    m = message(0x004, 0, auth, tx(13), mi=KEY)
    extra = attr(0x000D, b'\0\0\0\0')
    yield 'lifetime-after-mi', struct.pack('!HH', 0x0004, len(m) - 20 + len(extra)) + m[4:] + extra
    yield 'error-response', message(0x003, 3, [attr(0x0009, b'\0\0\x04\x01Unauthorized'), attr(0x0014, b'r'), attr(0x0015, b'n')], tx(14))
    yield 'unknown-attrs', message(0x003, 0, [attr(0x0031, b'x'), attr(0x7FFF, b''), attr(0xC001, b'abc')], tx(15))

def stun_decode():
    for name, data in rfc5769_vectors():
        write('stun_decode', 'rfc5769-' + name, b'\0' + data)
    for name, data in turn_messages():
        write('stun_decode', name, b'\1' + data)

def channel_data(ch, payload, pad=True):
    return struct.pack('!HH', ch, len(payload)) + payload + (b'\0' * ((4 - len(payload) % 4) % 4) if pad else b'')

def stream_framing():
    msgs = dict(turn_messages())
    stream = msgs['allocate-auth'] + channel_data(0x4001, b'abc') + msgs['refresh'] + channel_data(0x7FFF, b'x' * 100)
    write('stream_framing', 'mixed', bytes([255]) + bytes(range(1, 33)) + stream)
    write('stream_framing', 'byte-by-byte', bytes([64]) + b'\0' * 32 + stream)
    write('stream_framing', 'too-large', bytes([2]) + bytes(range(32)) + msgs['permission'])
    write('stream_framing', 'desync', bytes([100]) + bytes(range(32)) + channel_data(0x4000, b'') + b'\xC0\0\0\4junk')
    write('stream_framing', 'partial', bytes([100]) + bytes(range(32)) + msgs['binding'] + channel_data(0x4002, b'y' * 40)[:20])

def proxy_header():
    sig = b'\r\n\r\n\0\r\nQUIT\n'
    chunks = bytes(range(3, 19))  # the chunking seed
    inet = socket.inet_aton('192.0.2.7') + socket.inet_aton('198.51.100.1') + struct.pack('!HH', 40000, 3478)
    inet6 = socket.inet_pton(socket.AF_INET6, '2001:db8::1') + socket.inet_pton(socket.AF_INET6, '2001:db8::2') + struct.pack('!HH', 5000, 3478)
    def v2(vc, fp, body):
        return sig + bytes([vc, fp]) + struct.pack('!H', len(body)) + body
    hello = b'\x16\x03\x01\x00\x05hello'
    write('proxy_header', 'v1-tcp4', chunks + b'PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478\r\n' + hello)
    write('proxy_header', 'v1-tcp6', chunks + b'PROXY TCP6 2001:db8::1 2001:db8::2 5000 3478\r\n')
    write('proxy_header', 'v1-unknown', chunks + b'PROXY UNKNOWN\r\n')
    write('proxy_header', 'v1-no-crlf', chunks + b'PROXY UNKNOWN ' + b'x' * 100)
    write('proxy_header', 'v2-inet-tlvs', chunks + v2(0x21, 0x11, inet + b'\x01\x00\x02h2\x04\x00\x00') + hello)
    write('proxy_header', 'v2-inet6', chunks + v2(0x21, 0x21, inet6))
    write('proxy_header', 'v2-local', chunks + v2(0x20, 0x00, b''))
    write('proxy_header', 'v2-unix', chunks + v2(0x21, 0x31, b'a' * 216))
    write('proxy_header', 'v2-bad-tlv', chunks + v2(0x21, 0x11, inet + b'\x01\x00\x09ab'))
    write('proxy_header', 'v2-oversized', chunks + sig + b'\x21\x11\xff\xff')
    write('proxy_header', 'stun-binding', chunks + b'\x00\x01\x00\x00' + struct.pack('!I', MAGIC) + b'\1' * 12)

def capture_client_hello(flag):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(('127.0.0.1', 0))
    srv.settimeout(5)
    port = srv.getsockname()[1]
    p = subprocess.Popen(['openssl', 's_client', flag, '-connect', '127.0.0.1:%d' % port],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        data, _ = srv.recvfrom(65536)
    finally:
        p.kill()
        p.wait()
        srv.close()
    return data

def dtls_front():
    def dg(client, data, step=0):
        return bytes([client]) + struct.pack('!H', len(data)) + data + bytes([1 if step else 0]) + (bytes([step]) if step else b'')
    for flag in ('-dtls1_2', '-dtls'):
        hello = capture_client_hello(flag)
        name = flag.lstrip('-')
        write('dtls_front', name + '-client-hello', dg(0, hello))
        # Same hello from two sources, then with a forged 20-byte cookie spliced in.
        write('dtls_front', name + '-two-sources', dg(0, hello) + dg(1, hello, 61))
        body = bytearray(hello)
        # Record header 13 bytes, handshake header 12, version 2, random 32, session id len+id.
        pos = 13 + 12 + 2 + 32
        pos += 1 + body[pos]
        if body[pos] == 0:
            forged = bytes(body[:pos]) + b'\x14' + b'\xAA' * 20 + bytes(body[pos + 1:])
            write('dtls_front', name + '-forged-cookie', dg(2, forged))
    write('dtls_front', 'not-dtls', dg(0, b'\x00\x01\x00\x00' + b'\x21\x12\xa4\x42' + b'\0' * 12))

def config_yaml():
    write('config_yaml', 'etc-turnwarden', open(os.path.join(ROOT, 'etc/turnwarden.yaml'), 'rb').read())
    write('config_yaml', 'full', b'''realm: example.org
listeners:
  - {transport: udp, address: 127.0.0.1, port: 3478}
  - {transport: tcp, address: "::1", port: 3478, realm: other.example}
  - {transport: tls, address: 0.0.0.0, port: 5349, cert: /etc/c.pem, key: /etc/k.pem}
  - {transport: dtls, address: 0.0.0.0, port: 5349, cert: c.pem, key: k.pem}
relay:
  addresses: [127.0.0.1, "::1"]
  port_range: 49152-65535
  external_address: 198.51.100.7
  tcp: true
auth:
  secrets: [{id: k1, value: "0123456789abcdef0123456789abcdef"}]
  users:
    - {name: alice, key: 0123456789abcdef0123456789abcdef}
  realms:
    other.example: {secrets: [{id: o1, value: "fedcba9876543210fedcba9876543210"}]}
  max_ttl: 24h
  clock_skew: 5m
peers:
  default_deny: true
  allowed: [10.0.0.0/8, "fd00::/8"]
  denied: [10.1.0.0/16]
quotas:
  per_user: 10
  per_ip: 20
  total: 1000
limits:
  channel_numbers: rfc8656
metrics:
  listen: 127.0.0.1:9641
''')
    write('config_yaml', 'errors', b'realm: [1, 2]\nlisteners: {}\nrelay:\n  port_range: 9-1\nbogus: yes\npeers:\n  allowed: [300.1.1.1/33, "::g/200"]\n')
    write('config_yaml', 'yaml-edge', b'&a {realm: *a, <<: *a}\n--- \n!!binary "AAAA"\n')

def rest_credentials():
    hdr = lambda now, ttl, skew: struct.pack('!qqq', now, ttl, skew)
    write('rest_credentials', 'valid', hdr(1767225600, 86400, 300) + b'1767229200:alice')
    write('rest_credentials', 'bare-expiry', hdr(1767225600, 86400, 300) + b'1767229200')
    write('rest_credentials', 'colons', hdr(1767225600, 86400, 300) + b'1767229200:user:with:colons')
    write('rest_credentials', 'extremes', hdr(-2**63, 2**63 - 1, 2**63 - 1) + b'999999999999:x')
    write('rest_credentials', 'long', hdr(1, 1, 1) + b'1:' + b'u' * 510)

def coturn_import():
    # Every option the importer knows, in coturn's spellings (with and without
    # "--", "=" or a space, comments and blank lines), written here, not copied.
    write('coturn_import', 'all-options', b'''# comment
listening-port=3478
--tls-listening-port 5349
listening-ip=127.0.0.1
listening-ip=::1
relay-ip=127.0.0.1
external-ip=198.51.100.7
min-port=49152
max-port=65535
realm=example.org
use-auth-secret
static-auth-secret=abcdefghijklmnopqrstuvwxyz012345
allowed-peer-ip=10.0.0.1-10.0.0.255
denied-peer-ip=172.16.0.0-172.31.255.255
no-loopback-peers
allow-loopback-peers
no-multicast-peers
user-quota=5
total-quota=100
max-bps=64000
bps-capacity=0
stale-nonce=600
cert=/etc/ssl/cert.pem
pkey=/etc/ssl/key.pem
no-tcp
no-udp
no-tls
no-dtls
no-tcp-relay
user=carol:secret
   verbose
lt-cred-mech
''')
    src = open(os.path.join(ROOT, 'tests/relay/app/import_coturn_test.cc')).read()
    m = re.search(r'kProduction = R"\((.*?)\)";', src, re.S)
    if m:
        write('coturn_import', 'production', m.group(1).encode())
    write('coturn_import', 'odd-values', b'listening-port=99999\nmin-port=70000\nmax-port=1\nrelay-ip=::ffff:1.2.3.4\n'
          b'external-ip=1.2.3.4/5.6.7.8\nexternal-ip=9.9.9.9\ndenied-peer-ip=10.0.0.9-10.0.0.1\nrealm=\n'
          b'cert=/nonexistent\ntls-listening-port=5349\nuser=:nopass\nuser=x\n--static-auth-secret="quoted secret"\n')

def pipeline():
    """Step programs for tests/fuzz/pipeline_fuzz.cc (see step() there): op byte =
    tuple << 4 | kind; kind 1/2 request (how byte: method index % 5, 0x20 wrong key,
    0x40 unsigned, 0x80 reuse txid; then attribute bits), 3 Send, 4 ChannelData,
    5 peer datagram, 6 clock step, 7 connection closed, 0 raw datagram."""
    def req(tuple_, how, *rest):
        return bytes([tuple_ << 4 | 1, how]) + bytes(rest)
    alloc = lambda t, bits=0, *more: req(t, 0x00, bits, *more)
    chunk = lambda data: struct.pack('!H', len(data)) + data
    session = (alloc(0) + alloc(0)                                   # 401 with a nonce, then success
               + req(0, 0x02, 0x00, 0) + req(0, 0x03, 0x00, 1, 0)    # permission, channel 0x4001
               + bytes([0x03, 0]) + chunk(b'ping')                   # Send to 127.0.0.5:9
               + bytes([0x04, 1]) + chunk(b'data') + b'\x01'         # ChannelData 0x4001
               + bytes([0x05, 0, 0]) + chunk(b'pong')                # the peer answers
               + bytes([0x06]) + struct.pack('!H', 256)              # 256 s later, tick
               + req(0, 0x01, 0x01) + req(0, 0x01, 0x03))            # refresh 600, then 0
    write('pipeline', 'session', session)
    write('pipeline', 'even-port-token',
          alloc(1) + alloc(1, 0x30) + alloc(2) + alloc(2, 0x40) + bytes([0x06]) + struct.pack('!H', 31)
          + alloc(3) + alloc(3, 0x40))
    write('pipeline', 'denied-peers',
          alloc(0) + alloc(0) + b''.join(req(0, 0x02, 0x03, 3 + i, 4 + i, 5 + i, 6 + i) for i in range(0, 8, 2))
          + b''.join(bytes([0x03, i]) + chunk(b'x') for i in range(14))
          + req(0, 0x03, 0x00, 1, 0x80))                             # channel to a relayed address
    write('pipeline', 'brute-force', alloc(2) + b''.join(req(2, 0x20, 0x00, 1) for _ in range(12)) + alloc(2))
    write('pipeline', 'quota', b''.join(alloc(t) + alloc(t) for t in range(4)) + alloc(0, 0x04, 0)
          + bytes([0x06]) + struct.pack('!H', 3999) + bytes([0x06]) + struct.pack('!H', 3999))
    write('pipeline', 'retransmit', alloc(0) + alloc(0) + req(0, 0x80, 0x00, 0) + bytes([0x07]) + alloc(0))

def jwt():
    """Inputs for tests/fuzz/jwt_fuzz.cc: byte 0 even = a JWKS document follows; odd =
    a token: now and skew (int64, big-endian), how (0 raw text, 1 header and payload
    signed by the harness's Ed25519 key, 2 header, payload, signature bytes, 3 forged),
    then 16-bit-length chunks. The JWKS keys are generated here with `openssl genpkey`."""
    import base64, json
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
    chunk = lambda data: struct.pack('!H', len(data)) + data
    def der(alg, args):
        key = subprocess.run(['openssl', 'genpkey', '-algorithm', alg] + args, capture_output=True, check=True).stdout
        return subprocess.run(['openssl', 'pkey', '-pubout', '-outform', 'DER'], input=key,
                              capture_output=True, check=True).stdout
    def rsa_jwk(bits, kid, **extra):
        pub = der('RSA', ['-pkeyopt', 'rsa_keygen_bits:%d' % bits])
        text = subprocess.run(['openssl', 'rsa', '-pubin', '-inform', 'DER', '-noout', '-modulus'], input=pub,
                              capture_output=True, check=True).stdout.decode()
        n = bytes.fromhex(text.strip().split('=')[1])
        return dict(kty='RSA', kid=kid, n=b64(n), e=b64(b'\x01\x00\x01'), **extra)
    ec = der('EC', ['-pkeyopt', 'ec_paramgen_curve:P-256'])[-64:]
    ed = der('ED25519', [])[-32:]
    keys = [rsa_jwk(2048, 'rs', use='sig', alg='RS256'),
            dict(kty='EC', crv='P-256', kid='ec', x=b64(ec[:32]), y=b64(ec[32:])),
            dict(kty='OKP', crv='Ed25519', kid='ed', x=b64(ed)),
            dict(kty='RSA', kid='enc', use='enc', n='AQAB', e='AQAB'),          # skipped: not a signature key
            dict(kty='EC', crv='P-384', kid='p384', alg='ES384', x='AA', y='AA')]  # skipped: an algorithm never accepted
    write('jwt', 'jwks-all', b'\0' + json.dumps({'keys': keys}).encode())
    write('jwt', 'jwks-bad-point', b'\0' + json.dumps({'keys': [dict(kty='EC', crv='P-256', x=b64(b'\1' * 32), y=b64(b'\2' * 32))]}).encode())
    write('jwt', 'jwks-small-rsa', b'\0' + json.dumps({'keys': [rsa_jwk(1024, 'small')]}).encode())
    write('jwt', 'jwks-duplicate-kid', b'\0' + json.dumps({'keys': [keys[2], keys[2]]}).encode())
    write('jwt', 'jwks-syntax', b'\0{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "\xff\xfe"')
    now = 1767225600
    head = lambda now, skew, how: bytes([1]) + struct.pack('!qqB', now, skew, how)
    ed_head = b'{"alg":"EdDSA","kid":"ed","typ":"JWT"}'
    claims = lambda **c: json.dumps(dict(dict(iss='https://issuer.example', aud='turn', sub='alice', exp=now + 600), **c)).encode()
    signed = lambda header, payload, **kw: head(kw.get('now', now), kw.get('skew', 30), kw.get('how', 1)) + chunk(header) + chunk(payload)
    write('jwt', 'token-valid', signed(ed_head, claims(nbf=now - 5)))
    write('jwt', 'token-aud-array-hashed-sub', signed(b'{"alg":"EdDSA"}', claims(aud=['x', 'app'], sub='user:with:colons', exp=now + 0.5)))
    write('jwt', 'token-expired', signed(ed_head, claims(exp=now - 31)))
    write('jwt', 'token-not-yet', signed(ed_head, claims(nbf=now + 31)))
    write('jwt', 'token-claims-wrong', signed(ed_head, claims(iss='evil', aud=7, sub='', exp='soon')))
    write('jwt', 'token-forged', signed(ed_head, claims(), how=3) + b'\x05\x03')
    write('jwt', 'token-alg-none', head(now, 30, 0) + (b64(b'{"alg":"none"}') + '.' + b64(claims()) + '.').encode())
    write('jwt', 'token-hs256', signed(b'{"alg":"HS256","kid":"ed"}', claims(), how=2) + chunk(b'\0' * 32))
    write('jwt', 'token-es256-garbage', signed(b'{"alg":"ES256","kid":"ec"}', claims(), how=2) + chunk(b'\x7f' * 64))
    write('jwt', 'token-rs256-garbage', signed(b'{"alg":"RS256","kid":"rs","crit":["x"]}', claims(), how=2) + chunk(b'\1' * 256))
    write('jwt', 'token-extremes', signed(ed_head, claims(exp=2**70, nbf=-2**70), now=-2**63, skew=2**63 - 1))

def jwt_strict():
    """The stricter JWT checks (issue 22): a required typ, iat in the future, repeated member
    names, and a signature spelt with non-zero trailing bits (how 0, the raw text: signed here
    with the harness's fixed Ed25519 key, whose seed is bytes 0xA0..0xBF)."""
    import base64, json, tempfile
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
    chunk = lambda data: struct.pack('!H', len(data)) + data
    now = 1767225600
    head = lambda how, skew=30: bytes([1]) + struct.pack('!qqB', now, skew, how)
    claims = lambda **c: json.dumps(dict(dict(iss='https://issuer.example', aud='turn', sub='alice', exp=now + 600), **c)).encode()
    ed_head = b'{"alg":"EdDSA","kid":"ed","typ":"JWT"}'
    write('jwt', 'token-typ-required-ok', head(1 | 4) + chunk(b'{"alg":"EdDSA","kid":"ed","typ":"application/jwt"}') + chunk(claims()))
    write('jwt', 'token-typ-required-missing', head(1 | 4) + chunk(b'{"alg":"EdDSA","kid":"ed"}') + chunk(claims()))
    write('jwt', 'token-typ-required-wrong', head(1 | 4) + chunk(b'{"alg":"EdDSA","kid":"ed","typ":"at+jwt"}') + chunk(claims()))
    write('jwt', 'token-iat-future', head(1) + chunk(ed_head) + chunk(claims(iat=now + 31)))
    write('jwt', 'token-iat-within-skew', head(1) + chunk(ed_head) + chunk(claims(iat=now + 30)))
    write('jwt', 'token-duplicate-sub', head(1) + chunk(ed_head) + chunk(claims()[:-1] + b', "sub": "admin"}'))
    write('jwt', 'token-duplicate-header-alg', head(1) + chunk(b'{"alg":"none","kid":"ed","alg":"EdDSA"}') + chunk(claims()))
    pkcs8 = bytes.fromhex('302e020100300506032b657004220420') + bytes(0xA0 + i for i in range(32))
    signed_part = b64(ed_head) + '.' + b64(claims())
    with tempfile.NamedTemporaryFile(suffix='.der') as key, tempfile.NamedTemporaryFile() as data:
        key.write(pkcs8); key.flush(); data.write(signed_part.encode()); data.flush()
        sig = subprocess.run(['openssl', 'pkeyutl', '-sign', '-rawin', '-inkey', key.name, '-keyform', 'DER',
                              '-in', data.name], capture_output=True, check=True).stdout
    canonical = b64(sig)
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    spelt = canonical[:-1] + alphabet[alphabet.index(canonical[-1]) | 1]  # the same 64 bytes
    write('jwt', 'token-canonical', head(0) + (signed_part + '.' + canonical).encode())
    write('jwt', 'token-noncanonical-signature', head(0) + (signed_part + '.' + spelt).encode())

def http_request():
    """Inputs for tests/fuzz/http_request_fuzz.cc: per request, flags (bit 0 credentials, bit 1
    body too large, bits 2-3 Authorization: 0 raw, 1 the right bearer, 2 'Bearer '+text, 3 none),
    seconds the clock moves, the IPv4 address, then chunks method, path, Origin, body, text, and
    query pairs."""
    chunk = lambda data: struct.pack('!H', len(data)) + data
    def req(flags, method, path, origin=b'', body=b'', text=b'', query=(), secs=0, ip=0xC6336407):
        out = bytes([flags, secs]) + struct.pack('!I', ip) + chunk(method) + chunk(path) + chunk(origin)
        out += chunk(body) + chunk(text) + bytes([len(query)])
        return out + b''.join(chunk(k) + chunk(v) for k, v in query)
    RIGHT, RAW, BEARER, NONE = 1 << 2, 0, 2 << 2, 3 << 2
    write('http_request', 'admin-routes', b''.join(req(RIGHT, m, p, query=q) for m, p, q in [
        (b'GET', b'/admin/sessions', ()), (b'DELETE', b'/admin/sessions/42', ()),
        (b'DELETE', b'/admin/sessions', ((b'user', b'alice'),)), (b'POST', b'/admin/reload', ()),
        (b'POST', b'/admin/drain', ((b'scope', b'fleet'),)), (b'GET', b'/admin/bans', ()),
        (b'DELETE', b'/admin/bans/2001:db8::1', ((b'scope', b'fleet'),)), (b'GET', b'/admin/nodes', ()),
        (b'GET', b'/api/v1/credentials', ((b'user', b'bob'), (b'ttl', b'99999999999999999999'))),
        (b'POST', b'/admin/rotate', ())]))
    write('http_request', 'admin-bad-bodies', req(RIGHT, b'POST', b'/admin/reload', body=b'[1,2') +
          req(RIGHT, b'POST', b'/admin/reload', body=b'{"a": {"b": [1, 2, {"c": null}]}}') +
          req(RIGHT | 2, b'POST', b'/admin/drain', body=b'x' * 100))
    write('http_request', 'admin-lockout', b''.join(req(BEARER, b'GET', b'/admin/sessions', text=b'guess%d' % i)
                                                    for i in range(8))
          + req(NONE, b'GET', b'/admin/sessions') + req(RIGHT, b'GET', b'/admin/sessions')
          + req(RAW, b'GET', b'/admin/sessions', text=b'Bearer fuzz-admin-token-0123456789', secs=61))
    write('http_request', 'credentials-ok', req(1 | RIGHT, b'POST', b'/v1/credentials', origin=b'https://app.fuzz.test', text=b'alice')
          + req(1 | RIGHT, b'POST', b'/v1/credentials', text=b'auth0|123:with:colons'))
    write('http_request', 'credentials-refused', req(1 | BEARER, b'POST', b'/v1/credentials', text=b'a.b.c')
          + req(1 | RIGHT, b'POST', b'/v1/credentials', origin=b'https://evil.example', text=b'alice')
          + req(1 | RIGHT, b'POST', b'/v1/credentials', text=b'mallory')
          + req(1 | NONE, b'OPTIONS', b'/v1/credentials', origin=b'https://app.fuzz.test')
          + req(1 | NONE, b'GET', b'/v1/credentials', origin=b'https://app.fuzz.test\r\nX-Injected: 1')
          + req(1 | RAW, b'POST', b'/v2/other', text=b'bearer    ')
          + req(1 | 2 | RIGHT, b'POST', b'/v1/credentials', body=b'{}', text=b'bob'))
    write('http_request', 'credentials-rate', b''.join(req(1 | BEARER, b'POST', b'/v1/credentials', text=b'x') for _ in range(16)))

if __name__ == '__main__':
    for f in (stun_decode, stream_framing, proxy_header, dtls_front, config_yaml, rest_credentials, coturn_import,
              pipeline, jwt, jwt_strict, http_request):
        f()
    print('seeds written under', CORPUS)
