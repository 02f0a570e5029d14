# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""The Markdown documents of a collection tree read as plain Markdown: no MyST directive such as
```{include}``` left raw, and every relative link names a file or directory of the tree (a #fragment
must be a heading of the target document, with GitHub's anchor rules).

Usage: python tests/artifact/mdlinks.py <tree>   (the repository, or an installed/extracted collection)
"""

import os
import re
import sys
from urllib.parse import unquote, urlsplit

FENCE = re.compile(r'^\s*(```|~~~)')
DIRECTIVE = re.compile(r'^\s*(```|~~~|:::)\s*\{[a-z-]+\}')
# [text](target "title") and ![alt](target); the target has no spaces or parentheses of its own.
INLINE = re.compile(r'!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$')
CODE_SPAN = re.compile(r'(`+).*?\1')
HEADING = re.compile(r'^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$')


def markdown_files(tree):
    """Every .md file of the tree, outside tool and output directories."""
    skip = {'.git', 'tests/output', 'docs/_build', 'collections'}
    for root, dirs, files in os.walk(tree):
        rel = os.path.relpath(root, tree)
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and os.path.normpath(os.path.join(rel, d)) not in skip)
        for name in sorted(files):
            if name.endswith('.md'):
                yield os.path.join(root, name)


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks, code spans removed; raw directives reported."""
    fenced = None
    with open(path, encoding='utf-8') as handle:
        for number, line in enumerate(handle, 1):
            if fenced is None and DIRECTIVE.match(line):
                yield number, None
            match = FENCE.match(line)
            if match:
                if fenced is None:
                    fenced = match.group(1)
                elif line.strip().startswith(fenced) and line.strip().strip(fenced[0]) == '':
                    fenced = None
                continue
            if fenced is None:
                yield number, CODE_SPAN.sub('', line)


def github_anchor(heading, seen):
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    slug = re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else '%s-%d' % (slug, count)


def anchors(path, cache):
    """The heading anchors of a Markdown document."""
    if path not in cache:
        seen = {}
        found = set()
        for _number, line in prose_lines(path):
            match = HEADING.match(line or '')
            if match:
                found.add(github_anchor(match.group(1), seen))
        cache[path] = found
    return cache[path]


def problems(tree):
    """Every raw directive and broken relative link of the tree's Markdown, as 'path:line: message'."""
    tree = os.path.realpath(tree)
    cache = {}
    found = []
    for path in markdown_files(tree):
        where = os.path.relpath(path, tree)
        for number, line in prose_lines(path):
            if line is None:
                found.append('%s:%d: a MyST directive, which plain Markdown shows raw' % (where, number))
                continue
            targets = INLINE.findall(line)
            match = REFERENCE.match(line)
            if match:
                targets.append(match.group(1))
            for target in targets:
                parts = urlsplit(target)
                if parts.scheme or parts.netloc or target.startswith('mailto:'):
                    continue
                dest = path if not parts.path else os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path)))
                if not parts.path.startswith('/') and not (dest == tree or dest.startswith(tree + os.sep)):
                    found.append('%s:%d: %s: outside the collection' % (where, number, target))
                elif parts.path.startswith('/') or not os.path.exists(dest):
                    found.append('%s:%d: %s: no such file' % (where, number, target))
                elif parts.fragment and dest.endswith('.md') and unquote(parts.fragment) not in anchors(dest, cache):
                    found.append('%s:%d: %s: no heading #%s in %s'
                                 % (where, number, target, parts.fragment, os.path.relpath(dest, tree)))
    return found


def main(tree):
    """Print each problem; exit 1 when there is one."""
    found = problems(tree)
    for line in found:
        print('mdlinks: ' + line)
    print('mdlinks: %d Markdown file(s) in %s, %d problem(s)' % (len(list(markdown_files(tree))), tree, len(found)))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
