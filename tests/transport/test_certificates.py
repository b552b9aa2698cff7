"""transport/certificates (P2, O2): the self-signed certificate, its fingerprint, reloads."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from vaxel.transport.certificates import CertificateFiles, fingerprint, self_signed


def test_a_self_signed_certificate_names_the_hosts_and_keeps_its_key_private(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tls"
    cert, key, made = self_signed(folder, ["pbx.example", "127.0.0.1", "acme.example"])
    assert made
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    assert loaded.subject.rfc4514_string() == "CN=pbx.example"
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["pbx.example", "acme.example"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # A restart keeps it: phones that trust it go on trusting it.
    again = self_signed(folder, ["other.example"])
    assert again == (cert, key, False)
    assert len(fingerprint(cert).split(":")) == 32


def test_changed_files_load_and_a_bad_one_is_refused_until_it_changes(tmp_path: Path) -> None:
    cert, key, _ = self_signed(tmp_path / "a", ["127.0.0.1"])
    files = CertificateFiles(cert, key)
    assert files.changed()
    context, print_ = files.load()
    assert isinstance(context, ssl.SSLContext) and print_ == fingerprint(cert)
    assert not files.changed()
    cert.write_text("not a certificate\n")
    assert files.changed()
    with pytest.raises((ssl.SSLError, OSError, ValueError)):
        files.load()
    assert not files.changed()  # not tried again until it changes once more
    other, other_key, _ = self_signed(tmp_path / "b", ["127.0.0.1"])
    cert.write_bytes(other.read_bytes())
    key.write_bytes(other_key.read_bytes())
    os.utime(cert, ns=(1, 1))  # a copy within the same clock tick still counts
    assert files.changed()
    assert files.load()[1] == fingerprint(other)
