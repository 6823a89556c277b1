// The credentials endpoint from a real browser page (tests/e2e/chromium/credentials_test.sh).
//
//   node credentials.mjs jwks KEY.pem KID
//       prints {"keys":[<public JWK of KEY.pem>]}: what an application exports.
//   node credentials.mjs token KEY.pem KID ISS AUD SUB
//       prints an ES256 JWT {iss, aud, sub, exp: now+3600} signed with KEY.pem.
//   node credentials.mjs run PLAYWRIGHT_DIR ENDPOINT ALLOWED_PORT OTHER_PORT KEY.pem KID ISS AUD SUB COUNT
//       signs an ES256 JWT {iss, aud, sub, exp: now+3600} with KEY.pem (node's crypto, i.e.
//       OpenSSL, not turnwarden's code); serves page.html holding it on 127.0.0.1:ALLOWED_PORT
//       and on OTHER_PORT; opens http://localhost:ALLOWED_PORT/, which POSTs to ENDPOINT
//       cross-origin and runs two relay-only RTCPeerConnections with the iceServers it got;
//       then opens http://localhost:OTHER_PORT/, whose fetch the browser must block (CORS).
//       Prints one JSON line {allowed: {status, body}, turn: {...}, other: {...}}.
import {createPrivateKey, createPublicKey, sign} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {servePage, withChromium} from './browser.mjs';

const b64url = data => Buffer.from(data).toString('base64url');

function es256Jwt(pem, kid, claims) {
  const input = b64url(JSON.stringify({alg: 'ES256', typ: 'JWT', kid})) + '.' + b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(input), {key: createPrivateKey(pem), dsaEncoding: 'ieee-p1363'});
  return input + '.' + b64url(sig);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'jwks') {
  const [keyFile, kid] = args;
  const jwk = createPublicKey(readFileSync(keyFile)).export({format: 'jwk'});
  console.log(JSON.stringify({keys: [{...jwk, kid, use: 'sig', alg: 'ES256'}]}));
  process.exit(0);
}

const tokenFor = (keyFile, kid, iss, aud, sub) =>
  es256Jwt(readFileSync(keyFile), kid, {iss, aud, sub, exp: Math.floor(Date.now() / 1000) + 3600});
if (mode === 'token') {
  console.log(tokenFor(...args));
  process.exit(0);
}

const [pwDir, endpoint, allowedPort, otherPort, keyFile, kid, iss, aud, sub, countText] = args;
const jwt = tokenFor(keyFile, kid, iss, aud, sub);
const allowedSite = await servePage(Number(allowedPort), jwt);
const otherSite = await servePage(Number(otherPort), jwt);
try {
  await withChromium(pwDir, [], async context => {
    const out = {};
    const tab = await context.newPage();
    await tab.goto(`http://localhost:${allowedPort}/`);
    out.allowed = await tab.evaluate(url => window.fetchIceServers(url), endpoint);
    if (out.allowed.status === 200) {
      out.turn = await tab.evaluate(([s, n]) => window.runTurnTest(s, n),
                                    [out.allowed.body.iceServers, Number(countText)]);
    }
    const other = await context.newPage();
    await other.goto(`http://localhost:${otherPort}/`);
    out.other = await other.evaluate(url => window.fetchIceServers(url), endpoint);
    console.log(JSON.stringify(out));
  });
} finally {
  allowedSite.close();
  otherSite.close();
}
