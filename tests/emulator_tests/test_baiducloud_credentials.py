# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud emulator: the BCC metadata service's sts-credential and STS AssumeRole, with requests signed by the
official SDK (bce-python-sdk's bce_v1_signer; its BccClient with session credentials), and session tokens that expire."""

import json
import urllib.request

import pytest
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient

from test_baiducloud import raw, seed_doc

ACCOUNT = 'dc9b5191440d4f93851ddffb4e942b75'


@pytest.fixture
def bcc(admin):
    doc = seed_doc()
    doc['baiducloud']['iam_roles'] = [{'name': 'BccRole', 'account_id': ACCOUNT, 'instance': True},
                                      {'name': 'Deploy', 'account_id': ACCOUNT}]
    admin.seed(doc)
    return admin


def metadata(emulator):
    with urllib.request.urlopen(emulator.endpoints['baiducloud_metadata'] + '/latest/meta-data/sts-credential', timeout=5) as resp:
        return json.loads(resp.read().decode('utf-8'))


def get_instance(emulator, cred):
    """GetInstance through the SDK's BccClient signing with the session credentials; BccClient never sends the token
    itself, so it goes in through the SDK's own request path (as in test_baiducloud)."""
    config = BceClientConfiguration(credentials=BceCredentials(cred['accessKeyId'], cred['secretAccessKey']),
                                    endpoint=emulator.endpoints['baiducloud'])
    config.retry_policy = NoRetryPolicy()
    client = BccClient(config)
    return client._send_request(b'GET', b'/instance/i-YufwpQAe',  # pylint: disable=protected-access
                                headers={b'x-bce-security-token': cred['sessionToken'].encode()}).instance.id


def test_metadata_credentials_work_with_the_sdk(emulator, bcc):
    cred = metadata(emulator)
    assert set(cred) >= {'accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'}
    assert get_instance(emulator, cred) == 'i-YufwpQAe'


def test_assume_role_signed_by_the_sdk(emulator, bcc):
    params = {b'assumeRole': b'', b'accountId': ACCOUNT.encode(), b'roleName': b'Deploy', b'durationSeconds': b'3600'}
    status, dummy, body = raw(emulator, 'POST', '/v1/credential', params=params)
    assert status == 200
    cred = json.loads(body.decode('utf-8'))
    assert get_instance(emulator, cred) == 'i-YufwpQAe'
    params[b'roleName'] = b'Nobody'
    assert raw(emulator, 'POST', '/v1/credential', params=params)[0] == 404
    params[b'roleName'], params[b'durationSeconds'] = b'Deploy', b'7201'
    assert raw(emulator, 'POST', '/v1/credential', params=params)[0] == 400
    assert raw(emulator, 'POST', '/v1/credential', params=params, sk='wrong')[0] == 400     # SignatureDoesNotMatch


def test_expired_session_token(emulator, bcc):
    bcc.settings(baiducloud={'temporary_credentials_ttl_s': 60})
    cred = metadata(emulator)
    get_instance(emulator, cred)
    bcc.settings(clock_offset_s=61, baiducloud={'timestamp_window_s': 100000})
    with pytest.raises(BceHttpClientError) as err:
        get_instance(emulator, cred)
    assert err.value.last_error.code == 'InvalidSessionToken' and err.value.last_error.status_code == 403


def test_no_role_attached(emulator, admin):
    admin.seed(seed_doc())
    with pytest.raises(urllib.error.HTTPError) as err:
        metadata(emulator)
    assert err.value.code == 404
