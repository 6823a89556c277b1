// Shared by the Chromium drivers: page.html served on loopback, and headless Debian
// chromium driven by playwright-core (never `npx playwright install`).
import {createServer} from 'node:http';
import {readFileSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createRequire} from 'node:module';

const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'page.html'), 'utf8');

// Serves page.html on 127.0.0.1:port (0 = any) with `jwt` in its app-jwt meta tag.
export async function servePage(port = 0, jwt = '') {
  const html = page.replace('<meta name="app-jwt" content="">', `<meta name="app-jwt" content="${jwt}">`);
  const server = createServer((req, res) => {
    res.writeHead(200, {'content-type': 'text/html'});
    res.end(html);
  });
  await new Promise(resolve => server.listen(port, '127.0.0.1', resolve));
  return server;
}

// Runs fn(context) in a fresh headless Chromium profile, closed afterwards.
export async function withChromium(pwDir, extraArgs, fn) {
  const require = createRequire(join(pwDir, 'package.json'));
  const {chromium} = require('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'tw-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             ...extraArgs],
    });
    return await fn(context);
  } finally {
    if (context) await context.close();
    rmSync(userDataDir, {recursive: true, force: true});
  }
}
