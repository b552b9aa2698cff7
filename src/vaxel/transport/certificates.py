"""The switch's TLS certificate (P2, O2): a self-signed one when none is given, and reloads.

`self_signed` makes an EC P-256 key (mode 0600) and a certificate for the
host `vaxel serve --tls` listens on and the companies' SIP domains, once:
later starts reuse them, so phones that were told to trust it keep trusting
it. `CertificateFiles` loads a certificate and key into a server context
and notices when either file changes, so an operator (or a renewal job)
replaces them without a restart; a file that does not load leaves the old
context in use.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vaxel.transport.tls import server_context

CERTIFICATE = "certificate.pem"
KEY = "key.pem"
VALID_DAYS = 3650  # a self-signed certificate is trusted by pinning, not by its dates


def _name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def self_signed(folder: Path, hosts: list[str]) -> tuple[Path, Path, bool]:
    """The certificate and key in `folder`, made for `hosts` (the first is the CN) if
    missing; the third value says whether they were made now."""
    certificate, key = folder / CERTIFICATE, folder / KEY
    if certificate.exists() and key.exists():
        return certificate, key, False
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    names = list(dict.fromkeys(h.lower() for h in hosts if h))
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_name(h) for h in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(private, hashes.SHA256())
    )
    write_private_key(key, private)
    certificate.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    return certificate, key, True


def write_private_key(path: Path, private: ec.EllipticCurvePrivateKey) -> None:
    """A private key as PEM (PKCS#8), readable by the switch's user alone from the start."""
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def fingerprint(certificate: Path) -> str:
    """The SHA-256 fingerprint of the first certificate in a PEM file, as AB:CD:..."""
    loaded = x509.load_pem_x509_certificate(certificate.read_bytes())
    return loaded.fingerprint(hashes.SHA256()).hex(":").upper()


class CertificateFiles:
    """A certificate and key on disk, loaded into a server context; reloads when changed."""

    def __init__(self, certificate: Path, key: Path) -> None:
        self.certificate = certificate
        self.key = key
        self._stamp: tuple[int, ...] | None = None  # the files as last tried

    def _now(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for path in (self.certificate, self.key):
            try:
                info = path.stat()
            except OSError:
                stamp += [-1, -1]
            else:
                stamp += [info.st_mtime_ns, info.st_size]
        return tuple(stamp)

    def changed(self) -> bool:
        """Whether either file changed since it was last loaded (or tried)."""
        return self._now() != self._stamp

    def load(self) -> tuple[ssl.SSLContext, str]:
        """The context for the files as they are now, and the certificate's fingerprint.

        Raises `ssl.SSLError`, `OSError` or `ValueError` for files that do not load; they
        are not tried again until they change.
        """
        self._stamp = self._now()
        context = server_context(self.certificate, self.key)
        return context, fingerprint(self.certificate)
