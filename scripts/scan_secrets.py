# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scan test output for the test credentials' secret values; exit 1 if any is found.

    python scripts/scan_secrets.py [--sources DIR ...] [--list] OUTPUT_DIR_OR_FILE ...

The secrets are collected from the test sources (default: tests/ and benchmarks/): every string literal given to a
name, key or keyword argument that names a secret (secret_key, password, token, TENCENTCLOUD_SECRET_KEY, SK, ...;
not secret_id or other public key IDs) in Python files, and every such value in YAML and JSON files (emulator seeds,
integration target variables). Jinja templates and short or identifier-like values are not secrets.

Each file under the given paths is searched for every secret as is, JSON/repr-escaped, URL-encoded and base64-encoded.
A finding is reported as file:line and where the secret was defined; the secret itself is never printed.
"""

import argparse
import ast
import base64
import json
import os
import re
import sys
from urllib.parse import quote, quote_plus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A name (variable, key, keyword, environment variable) that holds a secret ...
SECRET_NAME = re.compile(r'(secret|password|passwd|token|(^|_)sk$|(^|_)(sts|private)_?key$)', re.IGNORECASE)
# ... unless it names a public ID (Tencent's SecretId is sent in clear in every request).
# Pagination tokens (NextToken) and error tables keyed by code (InvalidSecurityToken.Malformed) are not secrets either.
PUBLIC_NAME = re.compile(r'(secret_?id|_id$|_ids$|next_?token|^invalid|\.|^no_log)', re.IGNORECASE)
# Values that are option or variable names, placeholders or masks, not secrets.
NOT_A_SECRET = re.compile(r'^([a-z_]+|[A-Z_]+|\*+|VALUE_SPECIFIED_IN_NO_LOG_PARAMETER)$')
MIN_LENGTH = 8
# Where secrets are not defined: the emulator itself (its error tables), outputs, caches.
SKIP_DIRS = ('.git', '__pycache__', 'output', '.venv', '.venv-newest', '.venv-docs', '.hypothesis', 'emulator')
MAX_FILE_BYTES = 64 * 1024 * 1024


def candidate(value):
    return isinstance(value, str) and len(value) >= MIN_LENGTH and '{{' not in value and '{%' not in value \
        and not NOT_A_SECRET.match(value) and not re.search(r'\s', value)


def strings_in(node):
    """The string constants of an expression: a literal, or the values of a dict/list/tuple/set of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Dict):
        return [s for value in node.values if value is not None for s in strings_in(value)]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [s for element in node.elts for s in strings_in(element)]
    return []


def target_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        return [target.attr]
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
        return [target.slice.value]
    return []


IDENTIFIER = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def secret_name(name):
    """Whether `name` (an identifier; 'Some-Password-Value' is a value used as a key) names a secret."""
    return bool(IDENTIFIER.match(name)) and bool(SECRET_NAME.search(name)) and not PUBLIC_NAME.search(name)


def python_secrets(text):
    """(value, line) of the secret literals in Python source."""
    found = []
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and len(target.elts) == len(node.value.elts):
                    pairs = zip(target.elts, node.value.elts)    # AK, SK = 'id', 'secret'
                else:
                    pairs = [(target, node.value)]
                for one, value in pairs:
                    if any(secret_name(name) for name in target_names(one)):
                        found.extend((s, node.lineno) for s in strings_in(value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and secret_name(key.value):
                    found.extend((s, node.lineno) for s in strings_in(value))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg and secret_name(keyword.arg):
                    found.extend((s, node.lineno) for s in strings_in(keyword.value))
        elif isinstance(node, ast.FunctionDef):
            # def client(..., secret_key='x'): a default value
            args = node.args.args[len(node.args.args) - len(node.args.defaults):]
            for arg, default in list(zip(args, node.args.defaults)) + list(zip(node.args.kwonlyargs, node.args.kw_defaults)):
                if default is not None and secret_name(arg.arg):
                    found.extend((s, node.lineno) for s in strings_in(default))
    return [(value, line) for value, line in found if candidate(value)]


def data_secrets(data, under_secret=False):
    """The secret values of a parsed YAML/JSON document: values of keys that name a secret, deep."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(data_secrets(value, under_secret or (isinstance(key, str) and secret_name(key))))
    elif isinstance(data, list):
        for value in data:
            found.extend(data_secrets(value, under_secret))
    elif under_secret and candidate(data):
        found.append(data)
    return found


def line_of(text, value):
    pos = text.find(value)
    return text.count('\n', 0, pos) + 1 if pos >= 0 else 0


def load_yaml_documents(text):
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        return []
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []


def collect(sources):
    """{secret: 'path:line' where it was first defined}, from the test sources."""
    secrets = {}
    for source in sources:
        for path in walk(source):
            ext = os.path.splitext(path)[1]
            if ext not in ('.py', '.yml', '.yaml', '.json'):
                continue
            with open(path, 'rb') as handle:
                text = handle.read().decode('utf-8', 'replace')
            if ext == '.py':
                try:
                    pairs = python_secrets(text)
                except SyntaxError:
                    continue
            elif ext == '.json':
                try:
                    pairs = [(value, line_of(text, value)) for value in data_secrets(json.loads(text))]
                except ValueError:
                    continue
            else:
                pairs = [(value, line_of(text, value)) for doc in load_yaml_documents(text) for value in data_secrets(doc)]
            for value, line in pairs:
                secrets.setdefault(value, '%s:%d' % (os.path.relpath(path, ROOT), line))
    return secrets


def forms(secret):
    """The ways a secret can be written into a log: as is, escaped, URL-encoded, base64."""
    out = set([secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], quote(secret, safe=''), quote_plus(secret, safe=''),
               quote(secret, safe='/'), base64.b64encode(secret.encode('utf-8')).decode('ascii').rstrip('=')])
    return sorted(out)


def walk(top, skip_dirs=SKIP_DIRS):
    if os.path.isfile(top):
        yield top
        return
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        for name in sorted(files):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


def scan(paths, secrets):
    """[(path, line, defined_at)] for every occurrence of a secret in the files under paths, and the file count."""
    needles = [(form.encode('utf-8'), defined) for secret, defined in sorted(secrets.items()) for form in forms(secret)]
    findings = []
    count = 0
    for top in paths:
        if not os.path.exists(top):
            continue
        for path in walk(top, skip_dirs=('.git',)):
            count += 1
            with open(path, 'rb') as handle:
                data = handle.read(MAX_FILE_BYTES)
            for needle, defined in needles:
                start = data.find(needle)
                while start >= 0:
                    findings.append((path, data.count(b'\n', 0, start) + 1, defined))
                    start = data.find(needle, start + 1)
    return findings, count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('paths', nargs='*', help='output directories or files to scan (missing ones are skipped)')
    parser.add_argument('--sources', nargs='+', default=[os.path.join(ROOT, 'tests'), os.path.join(ROOT, 'benchmarks')],
                        help='where the test credentials are defined (default: tests/ and benchmarks/)')
    parser.add_argument('--list', action='store_true', help='list where each secret is defined (not the values) and exit')
    parser.add_argument('--require', action='store_true', help='fail if none of the paths exists')
    args = parser.parse_args(argv)
    secrets = collect(args.sources)
    if args.list:
        for defined in sorted(set(secrets.values())):
            print(defined)
        print('%d secret value(s)' % len(secrets))
        return 0
    if not secrets:
        print('secrets-scan: no secret values found in %s; refusing to pass an empty scan' % ' '.join(args.sources), file=sys.stderr)
        return 2
    existing = [p for p in args.paths if os.path.exists(p)]
    if args.require and not existing:
        print('secrets-scan: none of %s exists: nothing to scan' % ' '.join(args.paths), file=sys.stderr)
        return 2
    findings, count = scan(existing, secrets)
    for path, line, defined in findings:
        print('secrets-scan: %s:%d: the secret defined at %s' % (path, line, defined))
    print('secrets-scan: %d secret value(s), %d file(s) under %s, %d occurrence(s)'
          % (len(secrets), count, ', '.join(existing) or 'nothing', len(findings)))
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
