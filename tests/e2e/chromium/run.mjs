// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core: serves
// page.html on localhost, opens it, runs runTurnTest() with one TURN URI, and prints
// the result as one JSON line. Exit 0 when the run completed (the shell test asserts).
// Usage: node run.mjs PLAYWRIGHT_DIR URI USERNAME CREDENTIAL COUNT [--ignore-certificate-errors]
import {servePage, withChromium} from './browser.mjs';

const [pwDir, uri, username, credential, countText, ...extra] = process.argv.slice(2);
const server = await servePage();
try {
  await withChromium(pwDir, extra, async context => {
    const tab = await context.newPage();
    await tab.goto(`http://localhost:${server.address().port}/`);
    const result = await tab.evaluate(([s, n]) => window.runTurnTest(s, n),
                                      [{urls: uri, username, credential}, Number(countText)]);
    console.log(JSON.stringify(result));
  });
} finally {
  server.close();
}
