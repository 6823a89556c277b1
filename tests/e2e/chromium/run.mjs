// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core: serves
// page.html on localhost, opens it, runs runTurnTest() with one TURN URI, and prints
// the result as one JSON line. Exit 0 when the run completed (the shell test asserts).
// Usage: node run.mjs PLAYWRIGHT_DIR URI USERNAME CREDENTIAL COUNT [--ignore-certificate-errors]
import {createServer} from 'node:http';
import {readFileSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';

const [pwDir, uri, username, credential, countText, ...extra] = process.argv.slice(2);
const require = createRequire(join(pwDir, 'package.json'));
const {chromium} = require('playwright-core');
const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'page.html'));

const server = createServer((req, res) => {
  res.writeHead(200, {'content-type': 'text/html'});
  res.end(page);
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const userDataDir = mkdtempSync(join(tmpdir(), 'tw-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           ...extra],
  });
  const tab = await context.newPage();
  await tab.goto(`http://localhost:${server.address().port}/`);
  const result = await tab.evaluate(([s, n]) => window.runTurnTest(s, n),
                                    [{urls: uri, username, credential}, Number(countText)]);
  console.log(JSON.stringify(result));
} finally {
  if (context) await context.close();
  server.close();
  rmSync(userDataDir, {recursive: true, force: true});
}
