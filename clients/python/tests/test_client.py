"""Calls every RPC of a running server.

GIROPOPS_ADDR=http://host:port (or host:port) in plaintext, https://host:port
over TLS with the system roots. Without GIROPOPS_ADDR every test is skipped.
"""

import os

import grpc
import pytest

from giropops_senhas_client import connect, pb

ADDR = os.environ.get("GIROPOPS_ADDR", "")

pytestmark = pytest.mark.skipif(
    not ADDR,
    reason="GIROPOPS_ADDR is not set: these tests need a running server "
    "(GIROPOPS_ADDR=http://host:port pytest); bash clients/test.sh starts one",
)


@pytest.fixture(scope="module")
def client():
    tls = ADDR.startswith("https://")
    target = ADDR.split("://", 1)[-1].rstrip("/")
    return connect(target, tls=tls)


def test_generate_password(client):
    reply = client.GeneratePassword(
        pb.GeneratePasswordRequest(length=20, include_numbers=True, min_specials=2, count=3),
        timeout=5,
    )
    assert len(reply.passwords) == 3
    assert reply.password == reply.passwords[0]
    for password in reply.passwords:
        assert len(password) == 20
        assert any(c.isdigit() for c in password)
        assert sum(not c.isalnum() for c in password) >= 2
    assert reply.entropy_bits > 100
    assert reply.stored
    assert reply.created_at.seconds > 0


def test_invalid_argument_names_the_field(client):
    with pytest.raises(grpc.RpcError) as info:
        client.GeneratePassword(pb.GeneratePasswordRequest(length=3), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "length must be between 4 and 1024, got 3" in info.value.details()


def test_list_passwords_newest_first(client):
    reply = client.GeneratePassword(pb.GeneratePasswordRequest(length=16), timeout=5)
    listed = client.ListPasswords(pb.ListPasswordsRequest(page_size=5), timeout=5)
    assert listed.passwords[0].password == reply.password
    assert len(listed.passwords) <= 5


def test_generate_passphrase(client):
    reply = client.GeneratePassphrase(
        pb.GeneratePassphraseRequest(word_count=5, separator=" ", capitalize=True),
        timeout=5,
    )
    words = reply.passphrase.split(" ")
    assert len(words) == 5
    assert all(word[0].isupper() for word in words)
    assert reply.entropy_bits == pytest.approx(5 * 12.925, abs=0.01)


def test_check_password(client):
    weak = client.CheckPassword(pb.CheckPasswordRequest(password="password"), timeout=5)
    assert weak.score == 0
    assert weak.warning
    strong = client.CheckPassword(pb.CheckPasswordRequest(password="x7#Kq!vR2m@Lp9$Wz"), timeout=5)
    assert strong.score == 4


def test_stream_passwords(client):
    request = pb.StreamPasswordsRequest(
        options=pb.GeneratePasswordRequest(length=12, include_numbers=True), count=250
    )
    passwords = [message.password for message in client.StreamPasswords(request, timeout=10)]
    assert len(passwords) == 250
    assert len(set(passwords)) == 250
    assert all(len(p) == 12 for p in passwords)
