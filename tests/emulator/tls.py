# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway certificate authority for the emulator's HTTPS mode.

At start-up a CA and one leaf certificate (127.0.0.1, ::1, localhost and the bound host) are generated into a fresh
temporary directory; the keys never leave it and it is removed on stop. Needs the ``cryptography`` package (a
dependency of ansible-core); the rest of the emulator stays standard library only.
"""

import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile


class ThrowawayCA(object):
    """ca_bundle: the CA certificate (PEM) to trust; context: the servers' ssl.SSLContext."""

    def __init__(self, host='127.0.0.1'):
        # Imported here so that a plain-HTTP emulator never needs cryptography.
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # pylint: disable=import-outside-toplevel

        self.directory = tempfile.mkdtemp(prefix='multicloud-secgroup-emulator-ca-')
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        later = now + datetime.timedelta(days=2)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'multicloud.secgroup emulator throwaway CA')])
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(later)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(ca_ski, critical=False)
                   .sign(ca_key, hashes.SHA256()))

        names = [x509.DNSName(u'localhost'), x509.IPAddress(ipaddress.ip_address(u'127.0.0.1')),
                 x509.IPAddress(ipaddress.ip_address(u'::1'))]
        try:
            extra = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            extra = x509.DNSName(host)
        if extra not in names:
            names.append(extra)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'localhost')])).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(later)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
                .sign(ca_key, hashes.SHA256()))

        pem = serialization.Encoding.PEM
        self.ca_bundle = self._write('ca.pem', ca_cert.public_bytes(pem))
        cert_path = self._write('server.pem', cert.public_bytes(pem))
        key_path = self._write('server.key', key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_path, key_path)

    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        return path

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)
