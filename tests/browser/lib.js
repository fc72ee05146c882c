// lib.js -- what the kaas-panel browser tests share: TAP output, Debian's
// chromium driven headless by puppeteer-core, a screenshot of every page a
// test visits, and plain HTTPS requests (to the panel without following
// redirects, and TokenReviews to kaas-webhook) trusting the test CA.
//
// Every wait is for a condition, bounded by TIMEOUT (generous: the suite
// must pass on a loaded machine); nothing waits for a fixed time except the
// idle-timeout test, which waits for the time it tests to pass.
'use strict';

const fs = require('fs');
const https = require('https');
const path = require('path');
const puppeteer = require('puppeteer-core');

const TIMEOUT = Number(process.env.PANEL_TEST_TIMEOUT || 60000);

function env(name) {
    const v = process.env[name];
    if (v === undefined || v === '') throw new Error(`${name} is not set`);
    return v;
}

// ------------------------------------------------------------------ TAP
let passes = 0;
let fails = 0;
let current = 'start';

function ok(desc) {
    passes++;
    console.log(`ok ${passes + fails} - ${current}: ${desc}`);
}

function notOk(desc, detail) {
    fails++;
    console.log(`not ok ${passes + fails} - ${current}: ${desc}`);
    if (detail !== undefined) {
        for (const line of String(detail).split('\n').slice(0, 20)) console.log(`#   ${line}`);
    }
}

function check(desc, cond, detail) {
    if (cond) ok(desc);
    else notOk(desc, detail);
    return !!cond;
}

function eq(desc, got, want) {
    return check(desc, got === want, `got:  ${JSON.stringify(got)}\nwant: ${JSON.stringify(want)}`);
}

// test(NAME, FN): runs FN, an exception is one "not ok" line; the tests run
// one after the other, in the order they are declared
const tests = [];
function test(name, fn) {
    tests.push({ name, fn });
}

async function run(ctx) {
    const only = process.env.PANEL_TESTS ? process.env.PANEL_TESTS.split(',') : null;
    for (const t of tests) {
        if (only && !only.includes(t.name)) continue;
        current = t.name;
        const started = Date.now();
        try {
            await t.fn(ctx);
        } catch (e) {
            notOk('no exception', e && e.stack ? e.stack : e);
        }
        console.log(`# ${t.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    current = 'end';
    console.log(`1..${passes + fails}`);
    console.log(`# ${passes} passed, ${fails} failed`);
    return fails === 0 && passes > 0;
}

// ------------------------------------------------------------------ browser
// chromium trusts the test CA's server certificate by its public key (the
// SPKI hash, PANEL_SPKI), not by ignoring certificate errors: the panel is
// a secure context as it is for a user, so __Host- cookies work
async function launch() {
    const args = [
        `--ignore-certificate-errors-spki-list=${env('PANEL_SPKI')}`,
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--disable-gpu',
        '--window-size=1024,768',
    ];
    // chromium's sandbox needs user namespaces that root cannot enter
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    // a test's own, e.g. --host-resolver-rules for names of its own
    if (process.env.BROWSER_EXTRA_ARGS) args.push(process.env.BROWSER_EXTRA_ARGS);
    return puppeteer.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args,
        userDataDir: env('PANEL_PROFILE_DIR'),
        protocolTimeout: 2 * TIMEOUT,
        defaultViewport: { width: 1024, height: 768 },
    });
}

// a page in a fresh browser context (its own cookie jar), with default
// timeouts, a record of every dialog, and screenshots
let shotIndex = 0;
async function newPage(browser, who, base) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.setDefaultNavigationTimeout(TIMEOUT);
    page.kaasWho = who;
    page.kaasBase = base || env('PANEL_URL');
    page.kaasDialogs = [];
    // the browser's own complaints (CSP violations, script errors, failed
    // requests) go into the log as comments
    page.on('console', (m) => {
        // refusals (4xx) are what many tests expect: not worth a line
        if (/^Failed to load resource: the server responded with a status of 4/.test(m.text())) return;
        if (m.type() === 'error' || m.type() === 'warn') console.log(`# [${who}] console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`# [${who}] page error: ${e.message}`));
    page.on('requestfailed', (r) => {
        const why = r.failure() ? r.failure().errorText : '';
        if (why !== 'net::ERR_ABORTED') console.log(`# [${who}] request failed: ${r.method()} ${r.url()} ${why}`);
    });
    page.on('dialog', async (d) => {
        page.kaasDialogs.push(d.message());
        await d.dismiss().catch(() => {});
    });
    return page;
}

// shot(PAGE, LABEL): PNG of the page as it is, in PANEL_SHOTS, named after
// the test and the order of visits; also as docs-LABEL.png when the label
// starts with "docs-" (the screenshots docs/panel.md shows)
async function shot(page, label) {
    const dir = env('PANEL_SHOTS');
    shotIndex++;
    const name = `${String(shotIndex).padStart(3, '0')}-${current}-${page.kaasWho}-${label}`.replace(/[^A-Za-z0-9._-]/g, '_');
    await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    if (label.startsWith('docs-')) {
        await page.screenshot({ path: path.join(dir, `${label}.png`), fullPage: true });
    }
}

// visit(PAGE, URL-PATH, LABEL): GET in the browser, screenshot; returns the
// final response (redirects followed, as a browser does)
async function visit(page, p, label) {
    const res = await page.goto(page.kaasBase + p, { waitUntil: 'load' });
    await shot(page, label || p);
    return res;
}

// submit(PAGE, BUTTON-SELECTOR, LABEL): clicks a form's button and waits
// for the page it leads to
async function submit(page, selector, label) {
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
    await shot(page, label || selector);
    return res;
}

async function login(page, user, password, domain) {
    await visit(page, '/login', 'login');
    await page.type('#user', user);
    await page.type('#password', password);
    if (domain !== undefined) {
        await page.$eval('#domain', (e) => { e.value = ''; });
        await page.type('#domain', domain);
    }
    return submit(page, '#login-submit', 'after-login');
}

// text of the first element matching SELECTOR, or null
async function text(page, selector) {
    const h = await page.$(selector);
    if (!h) return null;
    return h.evaluate((e) => e.textContent);
}

async function exists(page, selector) {
    return (await page.$(selector)) !== null;
}

// the page's CSRF token, as its logout form carries it
async function csrf(page) {
    return page.$eval('#logout input[name="csrf"]', (e) => e.value);
}

// postForm(PAGE, PATH, FIELDS, LABEL): a form the test adds to the page
// and submits, as a user's click would (the page's CSP allows no fetch());
// the browser sends its own Origin, Sec-Fetch-* and cookies. Resolves to
// the response of the page it leads to (redirects followed)
async function postForm(page, p, fields, label) {
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.evaluate((p, fields) => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = p;
        for (const [k, v] of Object.entries(fields)) {
            const i = document.createElement('input');
            i.type = 'hidden';
            i.name = k;
            i.value = v;
            f.appendChild(i);
        }
        document.body.appendChild(f);
        HTMLFormElement.prototype.submit.call(f);
    }, p, fields)]);
    await shot(page, label || `post-${p}`);
    return res;
}

async function sessionCookie(page) {
    const cookies = await page.cookies();
    return cookies.find((c) => c.name === '__Host-kaas-session') || null;
}

// ------------------------------------------------------------------ plain HTTPS
const ca = () => fs.readFileSync(env('PANEL_CA'));

// request(URL, {method, headers, body}): no redirect followed; resolves to
// {status, headers, body}
function request(url, opts = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request(url, {
            method: opts.method || 'GET',
            headers: opts.body === undefined ? opts.headers || {}
                : { 'Content-Length': Buffer.byteLength(opts.body), ...opts.headers },
            ca: ca(),
            timeout: TIMEOUT,
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        });
        req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
        req.on('error', (e) => reject(new Error(`${opts.method || 'GET'} ${url}: ${e.message}`)));
        if (opts.body !== undefined) req.write(opts.body);
        req.end();
    });
}

// review(TOKEN): kaas-webhook's answer to a v1 TokenReview, as
// kube-apiserver sends it; resolves to the reply's status object
async function review(token) {
    const body = JSON.stringify({
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: { token },
        status: { user: {} },
    });
    const r = await request(env('WEBHOOK_URL') + '/authenticate', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
    });
    if (r.status !== 200) throw new Error(`webhook: HTTP ${r.status}: ${r.body}`);
    return JSON.parse(r.body).status;
}

// waitFor(FN, WHAT): polls FN (async, truthy = done) every 100 ms, bounded
async function waitFor(fn, what) {
    const end = Date.now() + TIMEOUT;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

// every secret the tests saw, for the wrapper to look for in the logs
function secret(value) {
    if (value) fs.appendFileSync(env('PANEL_SECRETS'), `${value}\n`, { mode: 0o600 });
}

module.exports = {
    TIMEOUT, env, ok, notOk, check, eq, test, run, launch, newPage, shot, visit, submit, login, text, exists,
    csrf, postForm, sessionCookie, request, review, waitFor, secret,
};
