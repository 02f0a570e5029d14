# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""Open the built documentation site in headless Chromium through the DevTools protocol.

Loads the index, one module page and one guide, then the search page for a module name, and fails on a
missing page, a JavaScript exception or console error, or a search with no result. Saves a screenshot
of the module page as <build dir>/module-page.png.
Usage: python docs/site/browser_check.py --chromium /usr/bin/chromium <build dir>
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

PAGES = (
    ('index', 'index.html', 'multicloud.secgroup'),
    ('module page', 'collections/multicloud/secgroup/sg_binding_module.html', 'multicloud.secgroup.sg_binding'),
    ('guide', 'docs/guides/troubleshooting.html', 'Troubleshooting'),
)
SEARCH = ('search.html?q=sg_binding', 'sg_binding_module.html')


class Browser:
    """One headless Chromium and one page target, driven over its DevTools websocket."""

    def __init__(self, chromium, profile):
        self.proc = subprocess.Popen(
            [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-port=0',
             '--user-data-dir=' + profile, '--window-size=1280,900', '--allow-file-access-from-files', 'about:blank'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(profile, 'DevToolsActivePort')
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file, encoding='ascii').read().strip():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError('chromium did not start (no DevToolsActivePort)')
            time.sleep(0.1)
        with open(port_file, encoding='ascii') as f:
            port = f.read().split()[0]
        with urllib.request.urlopen('http://127.0.0.1:%s/json/list' % port, timeout=10) as resp:
            targets = [t for t in json.load(resp) if t['type'] == 'page']
        self.ws = websocket.create_connection(targets[0]['webSocketDebuggerUrl'], timeout=30)
        self.next_id = 0
        self.events = []
        for domain in ('Page', 'Runtime', 'Log'):
            self.call(domain + '.enable')

    def call(self, method, **params):
        """Send one command and return its result; events seen meanwhile are kept."""
        self.next_id += 1
        self.ws.send(json.dumps({'id': self.next_id, 'method': method, 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == self.next_id:
                if 'error' in msg:
                    raise RuntimeError('%s: %s' % (method, msg['error']))
                return msg.get('result', {})
            self.events.append(msg)

    def wait_event(self, method, timeout):
        """Wait for an event, keeping the others."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for i, event in enumerate(self.events):
                if event.get('method') == method:
                    return self.events.pop(i)
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        raise RuntimeError('no %s within %d s' % (method, timeout))

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page."""
        return self.call('Runtime.evaluate', expression=expression, returnByValue=True)['result'].get('value')

    def errors(self):
        """Console errors and uncaught exceptions since the last call."""
        found = []
        for event in self.events:
            params = event.get('params', {})
            if event.get('method') == 'Runtime.exceptionThrown':
                details = params['exceptionDetails']
                found.append('exception: %s' % details.get('exception', {}).get('description') or details.get('text'))
            elif event.get('method') == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert'):
                found.append('console.%s: %s' % (params['type'], ' '.join(str(a.get('value', a.get('description'))) for a in params['args'])))
            elif event.get('method') == 'Log.entryAdded' and params['entry']['level'] == 'error':
                found.append('log: %s %s' % (params['entry']['text'], params['entry'].get('url', '')))
        self.events = []
        return found

    def load(self, url):
        """Navigate and wait for the load event."""
        self.events = []
        result = self.call('Page.navigate', url=url)
        if result.get('errorText'):
            raise RuntimeError('%s: %s' % (url, result['errorText']))
        self.wait_event('Page.loadEventFired', 30)

    def close(self):
        """Stop the browser this object started."""
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)


def check(browser, html, out):
    """Run every check; return the list of failures."""
    failures = []
    for label, path, text in PAGES:
        start = time.time()
        if not os.path.isfile(os.path.join(html, path)):
            failures.append('%s: %s is missing' % (label, path))
            continue
        browser.load('file://' + os.path.join(html, path))
        title = browser.evaluate('document.title') or ''
        body = browser.evaluate('document.body ? document.body.innerText : ""') or ''
        errors = browser.errors()
        ok = text in body and not errors
        print('browser-check: %s %s: title %r, %d characters, %d console error(s), %.1f s%s'
              % (label, path, title, len(body), len(errors), time.time() - start, '' if ok else ' FAILED'))
        failures.extend('%s: %s' % (label, e) for e in errors)
        if text not in body:
            failures.append('%s: %r not on the page' % (label, text))
        if path == PAGES[1][1]:
            shot = browser.call('Page.captureScreenshot', format='png')['data']
            with open(os.path.join(out, 'module-page.png'), 'wb') as f:
                f.write(base64.b64decode(shot))
    start = time.time()
    browser.load('file://' + os.path.join(html, SEARCH[0]))
    # Results appear one by one; the summary line is written when the search has finished.
    status = ''
    while time.time() - start < 20:
        status = browser.evaluate('(document.querySelector("#search-results p.search-summary") || {}).innerText || ""') or ''
        if status.startswith(('Search finished', 'Your search did not match')):
            break
        time.sleep(0.2)
    hits = browser.evaluate('Array.from(document.querySelectorAll("#search-results li a")).map(a => a.getAttribute("href"))') or []
    errors = browser.errors()
    good = [h for h in hits if SEARCH[1] in h]
    print('browser-check: search %s: %d result(s), %d for the module page, %d console error(s), %.1f s'
          % (SEARCH[0], len(hits), len(good), len(errors), time.time() - start))
    failures.extend('search: %s' % e for e in errors)
    if not status.startswith('Search finished'):
        failures.append('search: did not finish with results: %r' % status)
    if not good:
        failures.append('search: no result for sg_binding leads to %s' % SEARCH[1])
    return failures


def main():
    """Parse arguments, run the checks, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--chromium', default=shutil.which('chromium') or 'chromium')
    parser.add_argument('build_dir')
    args = parser.parse_args()
    start = time.time()
    html = os.path.realpath(os.path.join(args.build_dir, 'html'))
    profile = tempfile.mkdtemp(prefix='docs-check-chromium-')
    browser = Browser(args.chromium, profile)
    try:
        failures = check(browser, html, args.build_dir)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
    for failure in failures:
        print('browser-check: FAILED: ' + failure)
    shot = os.path.join(args.build_dir, 'module-page.png')
    print('browser-check: %s in %.1f s; screenshot %s' % ('failed' if failures else 'passed', time.time() - start, shot))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
