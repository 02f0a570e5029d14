# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""Offline check of every internal link in the built HTML site.

Every href and src that is not external must name an existing file inside the site, and every
#fragment must be an id (or a name) in the target page. Sphinx's linkcheck builder needs the network.
Usage: python docs/site/linkcheck.py <html dir>
"""

import os
import sys
import time
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    """Collects the links and the anchors of one page."""

    def __init__(self):
        super().__init__()
        self.links = []
        self.anchors = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ('id', 'name'):
            if attrs.get(key) and (key == 'id' or tag == 'a'):
                self.anchors.add(attrs[key])
        for key in ('href', 'src'):
            if attrs.get(key):
                self.links.append(attrs[key])


def parse(path, cache):
    """Parse a page once."""
    if path not in cache:
        page = Page()
        with open(path, encoding='utf-8') as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def main(root):
    """Check all pages; print each broken link and exit non-zero when there is one."""
    start = time.time()
    root = os.path.realpath(root)
    cache = {}
    broken = []
    checked = 0
    pages = [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files if f.endswith('.html')]
    for path in sorted(pages):
        for link in parse(path, cache).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(('mailto:', 'javascript:')) or link == '':
                continue
            checked += 1
            target = path if not parts.path else os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path)))
            if os.path.isdir(target):
                target = os.path.join(target, 'index.html')
            where = os.path.relpath(path, root)
            if not target.startswith(root + os.sep) or not os.path.isfile(target):
                broken.append('%s: %s: no such file' % (where, link))
            elif parts.fragment and target.endswith('.html') and unquote(parts.fragment) not in parse(target, cache).anchors:
                broken.append('%s: %s: no anchor #%s' % (where, link, parts.fragment))
    for line in broken:
        print('linkcheck: ' + line)
    print('linkcheck: %d pages, %d internal links, %d broken, %.1f s' % (len(pages), checked, len(broken), time.time() - start))
    return 1 if broken or not pages else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
