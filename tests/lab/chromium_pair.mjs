// Two headless Chromiums (Debian's), each in its own lab namespace, open a relay-only
// DataChannel to each other; this process is their signalling channel (non-trickle
// offer/answer through page.evaluate). Prints one JSON line: ok, messages received,
// each side's selected candidate pair (types, relayProtocol, addresses) and ICE errors.
// Usage: node chromium_pair.mjs PLAYWRIGHT_DIR COUNT SIDE_A.json SIDE_B.json
//   SIDE: {"name", "launcher" (a script that runs chromium in the namespace),
//          "home" (HOME with .pki/nssdb: the certificates it trusts), "iceServers"}
// Chromium runs without --ignore-certificate-errors: turns: must verify.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {createRequire} from 'node:module';

const [pwDir, countText, fileA, fileB] = process.argv.slice(2);
const count = Number(countText);
const sides = [fileA, fileB].map(f => JSON.parse(readFileSync(f, 'utf8')));
const require = createRequire(join(pwDir, 'package.json'));
const {chromium} = require('playwright-core');

function within(ms, promise, what) {
  let timer;
  return Promise.race([promise.finally(() => clearTimeout(timer)), new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout: ' + what)), ms);
  })]);
}

// In the page: a relay-only RTCPeerConnection with the side's iceServers.
function setUp(iceServers) {
  const pc = new RTCPeerConnection({iceServers, iceTransportPolicy: 'relay'});
  window.pc = pc;
  window.errors = [];
  window.received = [];
  pc.onicecandidateerror = e => window.errors.push({code: e.errorCode, text: e.errorText, url: e.url});
  pc.ondatachannel = ev => { ev.channel.onmessage = m => window.received.push(m.data); };
  window.gathered = () => new Promise(resolve => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
  });
}

async function selectedPair() {
  const stats = await window.pc.getStats();
  let pair = null;
  stats.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
  if (!pair) return null;
  const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
  return {local: l.candidateType, remote: r.candidateType, relayProtocol: l.relayProtocol || '',
          localAddress: `${l.address}:${l.port}`, remoteAddress: `${r.address}:${r.port}`,
          localUrl: l.url || ''};
}

const browsers = [];
const result = {ok: false};
try {
  const pages = [];
  for (const side of sides) {
    const browser = await within(60000, chromium.launch({
      executablePath: side.launcher,
      headless: true,
      env: {...process.env, HOME: side.home},
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }), `launch ${side.name}`);
    browsers.push(browser);
    const page = await browser.newPage();
    await page.evaluate(setUp, side.iceServers);
    pages.push(page);
  }
  const [a, b] = pages;
  await a.evaluate(() => { window.dc = window.pc.createDataChannel('lab');
                           window.opened = new Promise(r => { window.dc.onopen = r; }); });
  const offer = await within(30000, a.evaluate(async () => {
    await window.pc.setLocalDescription(); await window.gathered(); return window.pc.localDescription.toJSON();
  }), 'offer with candidates');
  const answer = await within(30000, b.evaluate(async offer => {
    await window.pc.setRemoteDescription(offer); await window.pc.setLocalDescription();
    await window.gathered(); return window.pc.localDescription.toJSON();
  }, offer), 'answer with candidates');
  await a.evaluate(answer => window.pc.setRemoteDescription(answer), answer);
  result.candidates = {
    [sides[0].name]: (offer.sdp.match(/a=candidate:.*/g) || []),
    [sides[1].name]: (answer.sdp.match(/a=candidate:.*/g) || []),
  };
  try {
    await within(30000, a.evaluate(() => window.opened), 'DataChannel open');
    await a.evaluate(n => { for (let i = 0; i < n; i++) window.dc.send('lab-' + i); }, count);
    await within(30000, b.evaluate(async n => {
      for (let i = 0; i < 300 && window.received.length < n; i++) await new Promise(r => setTimeout(r, 100));
      return window.received.length;
    }, count), 'messages');
  } catch (e) {
    result.error = String(e);
  }
  result.received = await b.evaluate(() => window.received.length);
  result.ice = {};
  result.pairs = {};
  result.errors = {};
  for (const [i, page] of pages.entries()) {
    result.ice[sides[i].name] = await page.evaluate(() => window.pc.iceConnectionState);
    result.pairs[sides[i].name] = await page.evaluate(selectedPair);
    result.errors[sides[i].name] = await page.evaluate(() => window.errors);
  }
  result.ok = !result.error && result.received === count;
} catch (e) {
  result.error = String(e);
} finally {
  for (const browser of browsers) await browser.close().catch(() => {});
}
console.log(JSON.stringify(result));
