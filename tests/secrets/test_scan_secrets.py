# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/scan_secrets.py: it knows the test credentials' secrets (and not the public IDs), and finds a planted one."""

import base64
import json
import os
import subprocess
import sys
from urllib.parse import quote_plus

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

import scan_secrets  # noqa: E402  pylint: disable=wrong-import-position

SCRIPT = os.path.join(ROOT, 'scripts', 'scan_secrets.py')
PLANTED = {'secret_key': 'Planted-Secret-Never-Shown+/='}


def test_it_collects_the_secrets_of_every_kind_of_fixture_and_no_public_id():
    secrets = scan_secrets.collect([os.path.join(ROOT, 'tests'), os.path.join(ROOT, 'benchmarks')])
    expected = {
        'Tc-Secret-Key-Never-Shown': 'tests/unit/plugins/modules/test_sg_binding.py',     # a dict of secrets
        'sk-secret-for-the-emulator-tests': 'tests/emulator_tests/test_baiducloud.py',   # AK, SK = ..., ...
        'Tc-Awx-Secret-Never-Shown-7f3a': 'tests/awx/test_runner.py',
        'Integration-Password-Never-Shown': 'tests/integration/targets/zenlayer_sg_binding/',  # YAML vars
        'Vvvv-Session-Token-Never-Shown': 'tests/secrets/test_playbook_secrets.py',
        'demo-secret-key-not-real': 'tests/demo/',                                        # a YAML seed
        PLANTED['secret_key']: 'tests/secrets/test_scan_secrets.py',
    }
    for value, where in expected.items():
        assert value in secrets and secrets[value].startswith(where), (where, secrets.get(value))
    for public in ('AKIDgeneric00001', 'LTAI5tVvvv00001', 'AKID-ZL-VVVV', 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', 'secret_key',
                   'security_token', 'TENCENTCLOUD_SECRET_KEY', 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'):
        assert public not in secrets, public
    assert len(secrets) >= 30


def test_the_python_and_data_rules():
    source = ("PASSWORD = 'Plain-Secret-1'\nAK, SK = 'AKIDpublic0001', 'Tuple-Secret-1'\nconfig = dict(secret_id='AKIDpublic0002', "
              "secret_key='Keyword-Secret-1', region='ap-guangzhou')\nENV = {'TENCENTCLOUD_SECRET_KEY': 'Env-Secret-1', "
              "'TENCENTCLOUD_SECRET_ID': 'AKIDpublic0003'}\ndef client(key_id='AKIDpublic0004', secret='Default-Secret-1'):\n"
              "    return NextToken\nERRORS = {'InvalidSecurityToken.Malformed': 'Specified SecurityToken is malformed.'}\n"
              "template = dict(secret_key='{{ tc_secret_key }}', token='short')\n"
              "WHERE = {'Some-Password-Value': 'tests/a/path'}\n")     # a value used as a key names nothing
    values = sorted(value for value, line in scan_secrets.python_secrets(source))
    assert values == ['Default-Secret-1', 'Env-Secret-1', 'Keyword-Secret-1', 'Plain-Secret-1', 'Tuple-Secret-1']
    doc = {'vars': {'tc_secret_id': 'AKIDpublic0005', 'tc_secret_key': 'Yaml-Secret-1', 'other_secret': '{{ x }}'},
           'seed': {'credentials': [{'access_key': 'AKIDpublic0006', 'secret_key': 'Seed-Secret-1', 'security_token': 'Seed-Token-1'}]},
           'env': {'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD': 'Yaml-Password-1', 'NextToken': 'page-token-2'}}
    assert sorted(scan_secrets.data_secrets(doc)) == ['Seed-Secret-1', 'Seed-Token-1', 'Yaml-Password-1', 'Yaml-Secret-1']


def run_scan(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True, check=False)


def test_a_planted_secret_is_found_in_every_form_and_never_printed(tmp_path):
    secret = PLANTED['secret_key']
    out = tmp_path / 'out'
    (out / 'deep' / 'er').mkdir(parents=True)
    (out / 'clean.log').write_text('nothing to see: ********, VALUE_SPECIFIED_IN_NO_LOG_PARAMETER\n')
    (out / 'deep' / 'er' / 'raw.log').write_text('line one\nthe key is %s here\n' % secret)
    (out / 'deep' / 'escaped.json').write_text(json.dumps({'msg': 'quoted "%s"' % secret}))
    (out / 'url.txt').write_text('GET /?Token=%s\n' % quote_plus(secret, safe=''))
    (out / 'b64.bin').write_bytes(b'\x00\x01' + base64.b64encode(secret.encode()) + b'\n')
    proc = run_scan(str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reported = [line for line in proc.stdout.splitlines() if line.startswith('secrets-scan: /')]
    assert sorted(os.path.relpath(line.split(':')[1].strip(), str(out)) for line in reported) == sorted(
        ['b64.bin', 'deep/er/raw.log', 'deep/escaped.json', 'url.txt'])
    assert any(line.startswith('secrets-scan: %s:2: the secret defined at tests/secrets/test_scan_secrets.py:'
                               % (out / 'deep' / 'er' / 'raw.log')) for line in reported)
    for form in scan_secrets.forms(secret):
        assert form not in proc.stdout + proc.stderr
    assert '4 occurrence(s)' in proc.stdout


def test_clean_output_passes_and_an_empty_scan_is_refused(tmp_path):
    (tmp_path / 'clean.log').write_text('ok\n')
    proc = run_scan(str(tmp_path), str(tmp_path / 'missing'))
    assert proc.returncode == 0 and '0 occurrence(s)' in proc.stdout, proc.stdout + proc.stderr
    assert run_scan('--require', str(tmp_path / 'missing')).returncode == 2
    assert run_scan('--sources', str(tmp_path), '--', str(tmp_path)).returncode == 2     # no secret known: refused
