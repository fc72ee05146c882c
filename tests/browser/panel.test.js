// panel.test.js -- kaas-panel end to end in a real browser: Debian's
// chromium, headless, driven by puppeteer-core, against a real kaas-panel,
// kaasd, kaas-webhook and the test Keystone that test_panel_browser.sh
// starts. Prints TAP; every page a test visits is saved as a PNG in
// PANEL_SHOTS. The environment (set by the wrapper):
//   PANEL_URL, PANEL_IDLE_URL, PANEL_IDLE_SECONDS   the panels (the second
//                  with a short session_idle), PANEL_CA their CA, PANEL_SPKI
//                  the hash chromium trusts, WEBHOOK_URL kaas-webhook
//   ALICE_PASSWORD (alice administers cluster alpha only), BOB_PASSWORD
//   PANEL_CLUSTER_SERVER, PANEL_WORK (downloads), KUBECTL (may be empty)
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const t = require('./lib.js');

const { env, check, eq, test, visit, submit, login, text, exists } = t;
const LOGIN_FAILED = 'Login failed: wrong user name, password or domain.';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'";

// createToken(PAGE, DESCRIPTION): through the form on /tokens; returns the
// token shown on /tokens/new (the page stays there)
async function createToken(page, description, days) {
    await visit(page, '/tokens', 'tokens');
    await page.type('#description', description);
    await page.$eval('#lifetime', (e, d) => { e.value = d; }, String(days || 30));
    const res = await submit(page, '#create-submit', 'new-token');
    if (!res || res.status() !== 200 || !res.url().endsWith('/tokens/new')) {
        throw new Error(`creating a token: ${res ? res.status() + ' ' + res.url() : 'no response'}`);
    }
    const token = (await text(page, '#new-token')).trim();
    t.secret(token);
    return token;
}

// the ID of the row of /tokens (or /admin/tokens) whose description is D
async function rowId(page, description) {
    return page.evaluate((d) => {
        for (const tr of document.querySelectorAll('tr[data-token-id]')) {
            const td = tr.querySelector('td.description');
            if (td && td.textContent === d) return tr.getAttribute('data-token-id');
        }
        return null;
    }, description);
}

// headers every response carries
function securityHeaders(h) {
    return h['content-security-policy'] === CSP && h['x-content-type-options'] === 'nosniff' &&
        h['referrer-policy'] === 'no-referrer' && /^max-age=31536000\b/.test(h['strict-transport-security'] || '');
}

async function main() {
    const browser = await t.launch();
    const ctx = { browser };
    let ok = false;
    try {
        ok = await t.run(ctx);
    } finally {
        await browser.close().catch(() => {});
    }
    process.exit(ok ? 0 : 1);
}

// ------------------------------------------------------------------ login page
test('login-page', async ({ browser }) => {
    const page = await t.newPage(browser, 'anon');
    let res = await visit(page, '/login', 'docs-login');
    eq('GET /login: 200', res.status(), 200);
    check('security headers (CSP, nosniff, no-referrer, HSTS)', securityHeaders(res.headers()), JSON.stringify(res.headers()));
    eq('<html lang="en">', await page.$eval('html', (e) => e.getAttribute('lang')), 'en');
    eq('one <h1>', await page.$$eval('h1', (l) => l.length), 1);
    eq('the domain is preset to the default domain', await page.$eval('#domain', (e) => e.value), 'Default');
    eq('#password is a password field', await page.$eval('#password', (e) => e.type), 'password');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
        .filter((e) => e.type !== 'hidden' && !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.closest('label'))
        .map((e) => e.outerHTML));
    eq('every input has a label', unlabelled.join(' '), '');
    check('the login form posts and carries a CSRF token',
        await page.$eval('#login', (f) => f.method === 'post' && !!f.querySelector('input[type="hidden"][name="csrf"]')));

    await page.setViewport({ width: 360, height: 740 });
    await visit(page, '/login', 'docs-login-360px');
    const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    check('360 px wide: no horizontal scrolling', w.scroll <= w.client, JSON.stringify(w));
    const vp = await page.$eval('meta[name="viewport"]', (e) => e.content).catch(() => null);
    eq('viewport meta', vp, 'width=device-width, initial-scale=1');

    // focus order: user, password, domain, then the button
    await page.setViewport({ width: 1024, height: 768 });
    await visit(page, '/login', 'focus');
    await page.focus('#user');
    const order = [];
    for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate(() => document.activeElement.id));
    }
    eq('tab order after #user: password, domain, submit', order.join(','), 'password,domain,login-submit');

    for (const p of ['/tokens', '/tokens/new', '/admin', '/services', '/']) {
        res = await t.request(env('PANEL_URL') + p);
        check(`logged out: GET ${p} is 303 to /login`, res.status === 303 && /\/login$/.test(res.headers.location || ''),
            `${res.status} ${res.headers.location}`);
    }
    res = await t.request(env('PANEL_URL') + '/healthz');
    check('GET /healthz: 200 ok', res.status === 200 && res.body.trim() === 'ok', `${res.status} ${res.body}`);
    // a plain-text answer may have a stricter policy than the pages
    check('/healthz carries the security headers too', res.headers['x-content-type-options'] === 'nosniff' &&
        res.headers['referrer-policy'] === 'no-referrer' && /^max-age=31536000\b/.test(res.headers['strict-transport-security'] || '') &&
        /default-src 'none'/.test(res.headers['content-security-policy'] || '') &&
        /frame-ancestors 'none'/.test(res.headers['content-security-policy'] || ''), JSON.stringify(res.headers));
    await page.browserContext().close();
});

test('login-wrong', async ({ browser }) => {
    const page = await t.newPage(browser, 'anon');
    for (const [label, user, pw, dom] of [
        ['wrong password', 'alice', 'not-' + env('ALICE_PASSWORD'), undefined],
        ['unknown user', 'nobody-such-user', 'whatever-password-1', undefined],
        ['wrong domain', 'alice', env('ALICE_PASSWORD'), 'no-such-domain'],
    ]) {
        const res = await login(page, user, pw, dom);
        eq(`${label}: HTTP 401`, res.status(), 401);
        eq(`${label}: the one generic message`, (await text(page, '#error')) && (await text(page, '#error')).trim(), LOGIN_FAILED);
        eq(`${label}: #error is an alert`, await page.$eval('#error', (e) => e.getAttribute('role')).catch(() => null), 'alert');
        const c = await t.sessionCookie(page);
        const r = c ? await t.request(env('PANEL_URL') + '/tokens', { headers: { Cookie: `__Host-kaas-session=${c.value}` } }) : null;
        check(`${label}: no logged-in session`, !r || r.status === 303, r && r.status);
        if (label === 'wrong password') await t.shot(page, 'docs-login-failed');
    }
    check('the password typed is not echoed back into the page',
        !(await page.content()).includes(env('ALICE_PASSWORD')));
    await page.browserContext().close();
});

// ------------------------------------------------------------------ log in, cookie
test('login-cookie', async ({ browser }) => {
    const page = await t.newPage(browser, 'alice');
    await t.visit(page, '/login', 'login');
    const before = await t.sessionCookie(page);
    const res = await login(page, 'alice', env('ALICE_PASSWORD'));
    check('alice logs in and lands on /tokens', res.status() === 200 && res.url() === env('PANEL_URL') + '/tokens',
        `${res.status()} ${res.url()}`);
    eq('#whoami names her', (await text(page, '#whoami') || '').trim(), 'alice');
    eq('/tokens: Cache-Control no-store', res.headers()['cache-control'], 'no-store');
    check('/tokens: security headers', securityHeaders(res.headers()), JSON.stringify(res.headers()));
    const c = await t.sessionCookie(page);
    check('the browser holds a __Host-kaas-session cookie', c !== null, JSON.stringify(await page.cookies()));
    if (!c) return;
    t.secret(c.value);
    eq('cookie: Secure', c.secure, true);
    eq('cookie: HttpOnly', c.httpOnly, true);
    eq('cookie: SameSite=Strict', c.sameSite, 'Strict');
    eq('cookie: Path=/', c.path, '/');
    check('cookie: host-only (no Domain)', !c.domain.startsWith('.'), c.domain);
    check('cookie: a session cookie (no Expires)', c.session === true || c.expires === -1, JSON.stringify(c));
    check('cookie: at least 128 bits of base64url', /^[A-Za-z0-9_-]{22,}$/.test(c.value), c.value.length);
    check('a new session ID at login', !before || before.value !== c.value);
    eq('document.cookie cannot read it', await page.evaluate(() => document.cookie.includes('kaas-session')), false);
    check('the session ID is not in the URL', !page.url().includes(c.value));
    ctx_alice = page;
});
let ctx_alice = null;

// ------------------------------------------------------------------ tokens
let shownToken = null;
test('token-once', async ({ browser }) => {
    const page = ctx_alice || await t.newPage(browser, 'alice');
    if (!ctx_alice) await login(page, 'alice', env('ALICE_PASSWORD'));
    const token = await createToken(page, 'browser test token', 30);
    shownToken = token;
    check('the new token is shown: kaas_ and 46 more characters', /^kaas_[0-9A-Za-z]{46}$/.test(token), token.length);
    const res = await page.reload({ waitUntil: 'load' }).catch((e) => e);
    await t.shot(page, 'reloaded');
    eq('reloading /tokens/new: 404', res && res.status ? res.status() : String(res), 404);
    check('reloaded: #gone says it is not shown again', await exists(page, '#gone'));
    check('reloaded: the token is nowhere in the page', !(await page.content()).includes(token));
    await visit(page, '/tokens', 'tokens-after');
    check('/tokens lists it by its description', (await rowId(page, 'browser test token')) !== null);
    check('/tokens does not show the token itself', !(await page.content()).includes(token));
    const st = await t.review(token);
    check('kaas-webhook: a TokenReview with it authenticates alice',
        st.authenticated === true && st.user && st.user.username === 'alice', JSON.stringify(st));
});

test('token-page', async ({ browser }) => {
    // a second token, to look at the page that shows it once in detail
    const page = ctx_alice;
    const token = await createToken(page, 'kubeconfig token', 7);
    await t.shot(page, 'docs-token-new');
    const res = await t.request(env('PANEL_URL') + '/tokens/new', {
        headers: { Cookie: `__Host-kaas-session=${(await t.sessionCookie(page)).value}` },
    });
    eq('the page was rendered once: a later GET is 404', res.status, 404);
    const lines = (await text(page, '#kubectl-lines')) || '';
    check('kubectl --token line with the cluster server', lines.includes(`--server=${env('PANEL_CLUSTER_SERVER')}`) &&
        lines.includes(`--token=${token}`) && /kubectl .*--token=\S+ get namespaces/.test(lines), lines);
    check('kubectl config set-credentials line', lines.includes(`kubectl config set-credentials alice --token=${token}`), lines);
    eq('copy button: a button copying #new-token', await page.$eval('#copy', (b) => `${b.type} ${b.dataset.copy}`).catch(() => null),
        'button new-token');
    check('no inline script on the page', await page.$$eval('script', (l) => l.every((s) => s.src && !s.textContent.trim())));

    // the copy button (the panel's only script) puts the token on the clipboard
    await page.browserContext().overridePermissions(env('PANEL_URL'), ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await page.click('#copy');
    const clip = await t.waitFor(async () => page.evaluate(() => navigator.clipboard.readText()).catch(() => ''),
        'the token on the clipboard').catch((e) => String(e));
    eq('the copy button copies the token', clip.trim(), token);

    // the download, as the browser saves it
    const dir = path.join(env('PANEL_WORK'), 'downloads');
    fs.mkdirSync(dir, { recursive: true });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', {
        behavior: 'allow', downloadPath: dir, browserContextId: page.browserContext().id,
    });
    await page.click('#kubeconfig-submit');
    const file = path.join(dir, 'kubeconfig-alpha.yaml');
    await t.waitFor(() => fs.existsSync(file) && !fs.readdirSync(dir).some((f) => f.endsWith('.crdownload')),
        'the kubeconfig download');
    check('kubeconfig downloaded as kubeconfig-alpha.yaml', fs.existsSync(file), fs.readdirSync(dir).join(' '));
    // and its headers, by the same POST from the page
    const form = await page.$eval('#kubeconfig', (f) => Object.fromEntries(new FormData(f)));
    const r = await t.request(env('PANEL_URL') + '/tokens/kubeconfig', {
        method: 'POST',
        headers: { Cookie: `__Host-kaas-session=${(await t.sessionCookie(page)).value}`, Origin: env('PANEL_URL'),
            'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
    });
    check('POST /tokens/kubeconfig: application/yaml, an attachment, not cached', r.status === 200 &&
        /^application\/yaml/.test(r.headers['content-type'] || '') &&
        r.headers['content-disposition'] === 'attachment; filename="kubeconfig-alpha.yaml"' &&
        r.headers['cache-control'] === 'no-store', JSON.stringify({ status: r.status, headers: r.headers, body: r.body.slice(0, 300) }));
    await t.shot(page, 'after-download');

    // kubectl reads it as kubectl users will; without kubectl, python3-yaml
    // reads it into the same shape (kubectl config view -o json)
    const kubectl = process.env.KUBECTL;
    const tool = kubectl ? 'kubectl' : 'python3-yaml';
    if (!kubectl) console.log('# kubectl is not installed: the kubeconfig is read with python3-yaml');
    const view = JSON.parse(kubectl
        ? execFileSync(kubectl, ['--kubeconfig', file, 'config', 'view', '--raw', '-o', 'json'], { encoding: 'utf8', timeout: t.TIMEOUT })
        : execFileSync('/usr/bin/python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file],
            { encoding: 'utf8', timeout: t.TIMEOUT }));
    eq(`${tool}: current-context alpha`, view['current-context'], 'alpha');
    const context = (view.contexts || []).find((c) => c.name === 'alpha');
    check(`${tool}: a context named alpha`, !!context, JSON.stringify(view.contexts));
    const cl = context && (view.clusters || []).find((x) => x.name === context.context.cluster);
    eq(`${tool}: the cluster server of alpha`, cl && cl.cluster.server, env('PANEL_CLUSTER_SERVER'));
    eq(`${tool}: certificate-authority-data is the configured CA file`,
        cl && Buffer.from(cl.cluster['certificate-authority-data'] || '', 'base64').toString(),
        fs.readFileSync(env('PANEL_CLUSTER_CA'), 'utf8'));
    const u = context && (view.users || []).find((x) => x.name === context.context.user);
    eq(`${tool}: the context's user holds the token`, u && u.user.token, token);
    if (kubectl) {
        eq('kubectl config get-contexts -o name', execFileSync(kubectl, ['--kubeconfig', file, 'config', 'get-contexts', '-o', 'name'],
            { encoding: 'utf8', timeout: t.TIMEOUT }).trim(), 'alpha');
    }
    check('the kubeconfig holds the token', fs.readFileSync(file, 'utf8').includes(token));
    fs.rmSync(file);
    const st = await t.review(token);
    check('kaas-webhook authenticates alice with it', st.authenticated === true && st.user.username === 'alice', JSON.stringify(st));
});

test('token-delete', async () => {
    const page = ctx_alice;
    await page.setViewport({ width: 360, height: 740 });
    await visit(page, '/tokens', 'tokens-360px');
    const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    check('/tokens at 360 px wide: no horizontal scrolling', w.scroll <= w.client, JSON.stringify(w));
    await page.setViewport({ width: 1024, height: 768 });
    await visit(page, '/tokens', 'docs-tokens');
    const id = await rowId(page, 'browser test token');
    check('the row of the first token', id !== null);
    for (const cls of ['created', 'expires', 'last-used']) {
        check(`its row has td.${cls}`, await exists(page, `tr[data-token-id="${id}"] td.${cls}`));
    }
    await Promise.all([page.waitForNavigation(), page.click(`tr[data-token-id="${id}"] a.delete`)]);
    await t.shot(page, 'docs-delete-confirm');
    check('a confirmation step: #confirm-delete with the id', await page.$eval('#confirm-delete',
        (f, id) => f.method === 'post' && f.querySelector('input[name="id"]').value === id, id).catch(() => false));
    check('the token is still valid before confirming', (await t.review(shownToken)).authenticated === true);
    const res = await submit(page, '#confirm-submit', 'deleted');
    check('confirmed: back on /tokens', res.url() === env('PANEL_URL') + '/tokens', res.url());
    eq('the row is gone', await rowId(page, 'browser test token'), null);
    const st = await t.review(shownToken);
    check('kaas-webhook refuses the deleted token', st.authenticated === false, JSON.stringify(st));
});

test('xss', async () => {
    const page = ctx_alice;
    const d = '<script>alert(1)</script>';
    const token = await createToken(page, d, 1);
    await visit(page, '/tokens', 'tokens');
    const id = await rowId(page, d);
    check('the description is rendered as text, equal to what was typed', id !== null);
    eq('no <script> element came from it', await page.$$eval('script', (l) => l.filter((s) => !s.src).length), 0);
    eq('no dialog fired', page.kaasDialogs.join(','), '');
    await visit(page, '/admin/tokens?user=alice', 'admin-tokens');
    check('/admin/tokens: as text there too', (await rowId(page, d)) !== null);
    eq('still no dialog', page.kaasDialogs.join(','), '');
    await visit(page, `/tokens/delete?id=${encodeURIComponent(id)}`, 'confirm');
    await submit(page, '#confirm-submit', 'deleted');
    eq('no dialog at all', page.kaasDialogs.join(','), '');
    check('deleted', (await t.review(token)).authenticated === false);
});

// ------------------------------------------------------------------ CSRF and origin
test('csrf', async ({ browser }) => {
    const page = ctx_alice;
    await visit(page, '/tokens', 'tokens');
    const good = await t.csrf(page);
    const count = async () => page.$$eval('tr[data-token-id]', (l) => l.length);
    const n0 = await count();
    let res = await t.postForm(page, '/tokens', { description: 'no csrf', lifetime_days: '1' }, 'no-csrf');
    check('POST /tokens without csrf: 403 with #error', res.status() === 403 && await exists(page, '#error[role="alert"]'), res.status());
    await visit(page, '/tokens', 'tokens');
    res = await t.postForm(page, '/tokens', { description: 'bad csrf', lifetime_days: '1',
        csrf: good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA') }, 'wrong-csrf');
    check('POST /tokens with a wrong csrf: 403 with #error', res.status() === 403 && await exists(page, '#error[role="alert"]'), res.status());
    await visit(page, '/tokens', 'tokens');
    res = await t.postForm(page, '/logout', {}, 'logout-no-csrf');
    eq('POST /logout without csrf: 403', res.status(), 403);
    await visit(page, '/tokens', 'tokens');
    check('... and the session goes on', await exists(page, '#whoami'));
    let r;

    // plain HTTPS with the valid cookie and csrf, but another Origin
    const cookie = `__Host-kaas-session=${(await t.sessionCookie(page)).value}`;
    const post = (headers, fields) => t.request(env('PANEL_URL') + '/tokens', {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
    });
    const fields = { description: 'cross-site', lifetime_days: '1', csrf: good };
    // the control: the same request from the right origin is accepted
    r = await t.request(env('PANEL_URL') + '/cluster', {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: env('PANEL_URL'),
            'Sec-Fetch-Site': 'same-origin' },
        body: new URLSearchParams({ cluster: 'alpha', csrf: good }).toString(),
    });
    check('control: cookie, csrf and the configured Origin: POST /cluster accepted (303)', r.status === 303, r.status);
    r = await post({ Origin: 'https://evil.example' }, fields);
    eq('valid cookie and csrf, Origin https://evil.example: 403', r.status, 403);
    r = await post({ Origin: env('PANEL_URL'), 'Sec-Fetch-Site': 'cross-site' }, fields);
    eq('valid cookie and csrf, Sec-Fetch-Site: cross-site: 403', r.status, 403);
    // chromium sends Origin: null with forms of a no-referrer page; only
    // Sec-Fetch-Site: same-origin makes that one acceptable
    r = await post({ Origin: 'null' }, fields);
    eq('Origin: null without Sec-Fetch-Site: 403', r.status, 403);
    r = await post({ Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }, fields);
    eq('Origin: null, Sec-Fetch-Site: cross-site: 403', r.status, 403);
    r = await post({}, fields);
    eq('no Origin at all: 403 (browsers always send one with a form)', r.status, 403);

    // a real cross-site form in the browser (another origin posts to the panel)
    const evil = await t.newPage(browser, 'evil');
    await evil.goto('about:blank');
    [res] = await Promise.all([evil.waitForNavigation(), evil.evaluate((target, csrf) => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = target;
        for (const [k, v] of Object.entries({ description: 'from another origin', lifetime_days: '1', csrf })) {
            const i = document.createElement('input');
            i.type = 'hidden'; i.name = k; i.value = v;
            f.appendChild(i);
        }
        document.body.appendChild(f);
        HTMLFormElement.prototype.submit.call(f);
    }, env('PANEL_URL') + '/tokens', good)]).catch((e) => [e]);
    await t.shot(evil, 'cross-origin-post');
    check('a form from another origin posting to /tokens: 403 (or the login page)', res && res.status &&
        (res.status() === 403 || res.url().endsWith('/login')), res && res.status ? `${res.status()} ${res.url()}` : String(res));
    await evil.browserContext().close();

    // the login form too
    r = await t.request(env('PANEL_URL') + '/login', {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: env('PANEL_URL') },
        body: new URLSearchParams({ user: 'alice', password: env('ALICE_PASSWORD'), domain: 'Default' }).toString(),
    });
    eq('POST /login without csrf: 403', r.status, 403);
    const anon = await t.newPage(browser, 'anon');
    await visit(anon, '/login', 'login');
    const lcsrf = await anon.$eval('#login input[name="csrf"]', (e) => e.value);
    const lcookies = (await anon.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    r = await t.request(env('PANEL_URL') + '/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example', Cookie: lcookies },
        body: new URLSearchParams({ user: 'alice', password: env('ALICE_PASSWORD'), domain: 'Default', csrf: lcsrf }).toString(),
    });
    eq('POST /login from another Origin (with the form\'s csrf): 403', r.status, 403);
    check('... and no session cookie set', !(r.headers['set-cookie'] || []).some((c) => /kaas-session=[^;]/.test(c)),
        JSON.stringify(r.headers['set-cookie']));
    await anon.browserContext().close();

    await visit(page, '/tokens', 'tokens-after');
    eq('no token was created by any of these', await count(), n0);
});

// ------------------------------------------------------------------ clusters, admin
const ADMIN_GETS = ['/admin', '/admin/tokens', '/admin/tokens?user=alice', '/admin/tokens/delete?id=x',
    '/admin/user?name=alice', '/admin/rbac', '/admin/revoke', '/admin/nonexistent'];
const ADMIN_POSTS = ['/admin/tokens/delete', '/admin/revoke', '/admin', '/admin/user', '/admin/rbac'];

async function pickCluster(page, name) {
    await page.select('#cluster', name);
    return submit(page, '#cluster-submit', `cluster-${name}`);
}

async function refusedEverywhere(page, label) {
    const good = await t.csrf(page);
    for (const p of ADMIN_GETS) {
        const res = await visit(page, p, 'admin-refused');
        check(`${label}: GET ${p}: 403 Forbidden`, res.status() === 403 && (await text(page, 'h1')).trim() === 'Forbidden',
            `${res.status()} ${res.url()}`);
    }
    await visit(page, '/tokens', 'tokens');
    for (const p of ADMIN_POSTS) {
        await visit(page, '/tokens', 'tokens');
        const res = await t.postForm(page, p, { csrf: good, id: 'x', user: 'x', confirm: 'yes' }, 'admin-post-refused');
        check(`${label}: POST ${p} (valid csrf): 403 Forbidden`, res.status() === 403 && ((await text(page, 'h1')) || '').trim() === 'Forbidden',
            res.status());
    }
}

test('clusters', async () => {
    const page = ctx_alice;
    await visit(page, '/tokens', 'docs-clusters');
    const opts = await page.$$eval('#cluster option', (l) => l.map((o) => `${o.value}${o.selected ? '*' : ''}`));
    eq('the dropdown lists both clusters, alpha active', opts.join(','), 'alpha*,beta');
    check('the cluster dropdown is in the navigation', await exists(page, '#nav #cluster-form'));
    check('alpha: alice sees Administration', await exists(page, '#nav-admin'));
    let res = await pickCluster(page, 'beta');
    check('after choosing beta: back on /tokens', res.url() === env('PANEL_URL') + '/tokens', res.url());
    eq('beta is selected', await page.$eval('#cluster', (s) => s.value), 'beta');
    check('beta: no Administration for alice', !(await exists(page, '#nav-admin')));
    await refusedEverywhere(page, 'alice on beta');
    await visit(page, '/tokens', 'tokens');
    res = await pickCluster(page, 'alpha');
    check('back on alpha: Administration again', await exists(page, '#nav-admin'));
    res = await t.postForm(page, '/cluster', { cluster: 'gamma', csrf: await t.csrf(page) }, 'unknown-cluster');
    eq('POST /cluster with an unknown cluster: 400', res.status(), 400);
    await visit(page, '/services', 'docs-services');
    const links = await page.$$eval('#services a', (l) => l.map((a) => `${a.textContent} ${a.getAttribute('href')}`));
    eq('alpha\'s managed services', links.join(','), env('PANEL_ALPHA_SERVICES'));
    await visit(page, '/admin', 'docs-admin');
    check('/admin: links to the admin pages', await page.$$eval('a', (l) => ['/admin/tokens', '/admin/user', '/admin/rbac']
        .every((h) => l.some((a) => a.getAttribute('href').startsWith(h)))));
    await visit(page, '/admin/rbac', 'docs-admin-rbac');
    const rbac = (await text(page, '#rbac')) || '';
    check('/admin/rbac: a ClusterRoleBinding to cluster-admin for k8s-admins-alpha',
        /kind: "?ClusterRoleBinding"?$/m.test(rbac) && /name: "?kaas:cluster-admin:alpha"?$/m.test(rbac) &&
        /name: "?cluster-admin"?$/m.test(rbac) && rbac.includes(env('ROLE_K8S_ADMINS_ALPHA_ID')), rbac);
});

test('non-admin', async ({ browser }) => {
    const page = await t.newPage(browser, 'bob');
    const res = await login(page, 'bob', env('BOB_PASSWORD'));
    eq('bob logs in', res.status(), 200);
    check('alpha: no Administration for bob', !(await exists(page, '#nav-admin')));
    await refusedEverywhere(page, 'bob on alpha');
    await visit(page, '/tokens', 'tokens');
    await pickCluster(page, 'beta');
    check('beta: no Administration for bob', !(await exists(page, '#nav-admin')));
    await refusedEverywhere(page, 'bob on beta');
    await visit(page, '/tokens', 'tokens');
    await pickCluster(page, 'alpha');
    ctx_bob = page;
});
let ctx_bob = null;

test('admin-revoke', async ({ browser }) => {
    const bob = ctx_bob || await t.newPage(browser, 'bob');
    if (!ctx_bob) await login(bob, 'bob', env('BOB_PASSWORD'));
    const b1 = await createToken(bob, 'bob laptop', 30);
    const b2 = await createToken(bob, 'bob ci', 30);
    check('bob\'s tokens work', (await t.review(b1)).authenticated && (await t.review(b2)).authenticated);

    const page = ctx_alice;
    await visit(page, '/admin/tokens', 'admin-tokens');
    await page.type('#filter-user', 'bob');
    await submit(page, '#filter button, #filter [type="submit"]', 'docs-admin-tokens');
    const users = await page.$$eval('#all-tokens tr[data-token-id] td.user', (l) => l.map((e) => e.textContent.trim()));
    check('filtered by user: bob\'s two tokens, nobody else\'s', users.length === 2 && users.every((u) => u.startsWith('bob')), users.join(','));
    await visit(page, '/admin/user?name=bob', 'docs-admin-user');
    check('user lookup: roles, projects, clusters administered', await exists(page, '#user-info #roles') &&
        await exists(page, '#user-info #projects') && await exists(page, '#user-info #admin-clusters'));
    check('bob\'s roles list member', /member/.test((await text(page, '#roles')) || ''));
    // the checkbox is required: submitting without it stays on the page
    await page.click('#revoke-confirm');
    let res = await submit(page, '#revoke-submit', 'revoked');
    eq('revoked: "2 tokens revoked"', ((await text(page, '#revoked')) || '').trim(), '2 tokens revoked');
    eq('revoked: 200', res.status(), 200);
    const s1 = await t.review(b1);
    const s2 = await t.review(b2);
    check('kaas-webhook refuses both of bob\'s tokens', s1.authenticated === false && s2.authenticated === false,
        JSON.stringify([s1, s2]));
    await visit(bob, '/tokens', 'tokens-after-revoke');
    check('bob sees no tokens', await exists(bob, '#no-tokens'));
    await visit(page, '/admin/user?name=alice', 'admin-user-alice');
    check('alice administers alpha', /alpha/.test((await text(page, '#admin-clusters')) || ''));
    res = await t.postForm(page, '/admin/revoke', { user: 'x', csrf: await t.csrf(page) }, 'revoke-unconfirmed');
    eq('POST /admin/revoke without confirm=yes: 400', res.status(), 400);
});

// ------------------------------------------------------------------ every page
// what a screen reader and a phone need, on every page an administrator
// sees: the language, one <h1>, a label for every field, the navigation
// as a landmark, and no horizontal scrolling 360 px wide on the pages
// without wide tables
test('a11y', async () => {
    const page = ctx_alice;
    for (const [p, narrow] of [['/tokens', true], ['/services', true], ['/admin', true], ['/admin/tokens', false],
        ['/admin/user?name=bob', false], ['/admin/rbac', false], ['/tokens/delete?id=x', true]]) {
        await visit(page, p, 'a11y');
        const r = await page.evaluate(() => ({
            lang: document.documentElement.getAttribute('lang'),
            h1: document.querySelectorAll('h1').length,
            nav: !!document.querySelector('nav#nav'),
            css: [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => l.getAttribute('href')).join(','),
            unlabelled: [...document.querySelectorAll('input, select, textarea')]
                .filter((e) => e.type !== 'hidden' && !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.closest('label') &&
                    !e.getAttribute('aria-label'))
                .map((e) => e.outerHTML).join(' '),
        }));
        check(`${p}: lang en, one h1, nav, /static/panel.css, every field labelled`, r.lang === 'en' && r.h1 === 1 && r.nav &&
            r.css === '/static/panel.css' && r.unlabelled === '', JSON.stringify(r));
        if (narrow) {
            await page.setViewport({ width: 360, height: 740 });
            await visit(page, p, 'a11y-360px');
            const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
            check(`${p} at 360 px: no horizontal scrolling`, w.scroll <= w.client, JSON.stringify(w));
            await page.setViewport({ width: 1024, height: 768 });
        }
    }
});

// ------------------------------------------------------------------ logout, idle
test('logout', async () => {
    const page = ctx_bob;
    await visit(page, '/tokens', 'tokens');
    const cookie = (await t.sessionCookie(page)).value;
    t.secret(cookie);
    const res = await submit(page, '#logout-submit', 'logged-out');
    check('logout: on /login', res.url() === env('PANEL_URL') + '/login', res.url());
    const after = await t.sessionCookie(page);
    check('logout: the session cookie is gone from the jar', !after || after.value !== cookie, JSON.stringify(after));
    await page.goBack({ waitUntil: 'load' }).catch(() => null);
    await t.shot(page, 'back-button');
    check('back button: the login page, nothing of the session', page.url().endsWith('/login') &&
        !(await exists(page, '#nav')) && !(await exists(page, '#tokens')) && !(await page.content()).includes('bob'),
        page.url());
    const r = await t.request(env('PANEL_URL') + '/tokens', { headers: { Cookie: `__Host-kaas-session=${cookie}` } });
    check('the old session ID replayed: 303 to /login (ended on the server)', r.status === 303, `${r.status}`);
});

test('idle', async ({ browser }) => {
    const page = await t.newPage(browser, 'alice-idle', env('PANEL_IDLE_URL'));
    const res = await login(page, 'alice', env('ALICE_PASSWORD'));
    check('logged in to the panel with the short session_idle', res.url().endsWith('/tokens'), res.url());
    const idle = Number(env('PANEL_IDLE_SECONDS'));
    // the one wait for time itself: the session must outlive no request
    await new Promise((r) => setTimeout(r, (idle + 2) * 1000));
    const after = await visit(page, '/tokens', 'after-idle');
    check(`after ${idle + 2} s without a request: back on /login`, after.url().endsWith('/login'), after.url());
    check('nothing of the session shown', !(await exists(page, '#nav')));
    await page.browserContext().close();
});

main().catch((e) => {
    console.log(`not ok - harness: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
