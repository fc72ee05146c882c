// forward.test.js -- single sign-on to managed services behind nginx's
// auth_request, in Debian's chromium (run by test_forward_auth.sh, which
// starts Keystone, kaasd, kaas-panel, nginx and the echoing services, and
// maps *.kaas.test to 127.0.0.1 with --host-resolver-rules).
'use strict';

const t = require('../browser/lib.js');

const { test, check, eq, env } = t;

async function main() {
    const browser = await t.launch();
    let ok = false;
    try {
        ok = await t.run({ browser });
    } finally {
        await browser.close().catch(() => {});
    }
    process.exit(ok ? 0 : 1);
}

async function go(page, url, label) {
    const res = await page.goto(url, { waitUntil: 'load' });
    await t.shot(page, label);
    return res;
}

// the echoing service's view of the request, from its page
async function upstreamRequest(page) {
    const raw = await t.text(page, '#request');
    return raw ? JSON.parse(raw) : null;
}

async function loginHere(page, user, password) {
    await page.type('#user', user);
    await page.type('#password', password);
    return t.submit(page, '#login-submit', 'after-login');
}

test('sign-in', async ({ browser }) => {
    const page = await t.newPage(browser, 'alice');
    const want = `${env('KIBANA_URL')}/app/discover?q=a&b=c`;
    await go(page, want, 'service-asks-login');
    check('the service sent the browser to the panel login', page.url().startsWith(`${env('PANEL_URL')}/login?`), page.url());
    await loginHere(page, 'alice', env('ALICE_PASSWORD'));
    eq('the login sent the browser back to the page it asked for', page.url(), want);
    const req = await upstreamRequest(page);
    check('the service answered', req !== null, await page.content());
    if (!req) return;
    eq('the service sees the user name', req.headers['x-remote-user'], 'alice');
    check('the service sees a Keystone user ID', /^[0-9a-f]{32}$/.test(req.headers['x-remote-uid'] || ''), req.headers['x-remote-uid']);
    check('the service never sees the session cookie', !(req.headers.cookie || '').includes('kaas-session'), req.headers.cookie);

    // single sign-on: a second service needs no second login
    await go(page, `${env('GRAFANA_URL')}/`, 'second-service');
    eq('a second service opens without a login', await t.text(page, '#service'), 'grafana');

    // logged out in the panel, the services send the browser to the login again
    await go(page, `${env('PANEL_URL')}/tokens`, 'panel');
    await t.submit(page, '#logout-submit', 'logged-out');
    await go(page, `${env('KIBANA_URL')}/`, 'service-after-logout');
    check('after logout the service sends the browser to the login', page.url().startsWith(`${env('PANEL_URL')}/login?`), page.url());
    await page.browserContext().close();
});

test('role-refused', async ({ browser }) => {
    const page = await t.newPage(browser, 'bob');
    await go(page, `${env('GRAFANA_URL')}/`, 'grafana-asks-login');
    const res = await loginHere(page, 'bob', env('BOB_PASSWORD'));
    eq('back at the service that needs a role bob lacks: 403', res.status(), 403);
    eq('nothing of the service shown', await t.text(page, '#service'), null);
    await go(page, `${env('KIBANA_URL')}/`, 'kibana');
    eq('the service without a role requirement opens', await t.text(page, '#service'), 'kibana');
    await page.browserContext().close();
});

test('open-redirect', async ({ browser }) => {
    const page = await t.newPage(browser, 'alice-redirect');
    await go(page, `${env('PANEL_URL')}/login?return_to=${encodeURIComponent('https://evil.example.net/')}`, 'evil-return-to');
    await loginHere(page, 'alice', env('ALICE_PASSWORD'));
    eq('a return_to outside the environment: the panel keeps the browser', page.url(), `${env('PANEL_URL')}/tokens`);
    await page.browserContext().close();
});

main().catch((e) => {
    console.log(`not ok - harness: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
