"""A kiosk pins the building's certificate: with --ca-cert it talks to a console
whose certificate that CA issued, and refuses any other (even a valid-looking one)."""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import sys
import threading

import pytest


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca_and_server_cert(folder, name):
    """A CA and a certificate for 127.0.0.1 issued by it."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} CA",
             "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", f"{name}.pem", cwd=folder)  # fmt: skip
    return folder / f"{name}-ca.pem", folder / f"{name}.pem", folder / f"{name}.key"


class _PairingRefused(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.dumps(
            {
                "error": {
                    "code": "pairing_code_invalid",
                    "message": "This pairing code is not known.",
                }
            }
        )
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_console(tmp_path):
    building_ca, cert, key = _ca_and_server_cert(tmp_path, "building")
    other_ca, _other_cert, _other_key = _ca_and_server_cert(tmp_path, "other")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PairingRefused)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", building_ca, other_ca
    server.shutdown()
    server.server_close()


def _pair(url, ca, tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "lobbydesk", "kiosk", "--console", url, "--pair", "ABCDE-FGHJK",
         "--data-dir", str(tmp_path / "k"), "--ca-cert", str(ca)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_building_ca_is_trusted(tls_console, tmp_path):
    url, building_ca, _other = tls_console
    result = _pair(url, building_ca, tmp_path)
    assert result.returncode == 2
    assert "not known" in result.stderr  # the console answered over TLS


def test_a_certificate_from_another_ca_is_refused(tls_console, tmp_path):
    url, _building, other_ca = tls_console
    result = _pair(url, other_ca, tmp_path)
    assert result.returncode == 2
    assert (
        "CERTIFICATE_VERIFY_FAILED" in result.stderr or "certificate verify failed" in result.stderr
    )
