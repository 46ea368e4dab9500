"""Python client for giropops-senhas.

The generated code lives in ``giropops.v1`` (messages, typed ``.pyi`` stubs
and the ``PasswordServiceStub``); this module adds :func:`connect`.

>>> from giropops_senhas_client import connect, pb
>>> client = connect("localhost:50051")
>>> reply = client.GeneratePassword(pb.GeneratePasswordRequest(length=24))
"""

from __future__ import annotations

from typing import Optional

import grpc

from giropops.v1 import password_service_pb2 as pb
from giropops.v1 import password_service_pb2_grpc as pb_grpc

__all__ = ["connect", "pb", "pb_grpc", "PasswordServiceStub"]

PasswordServiceStub = pb_grpc.PasswordServiceStub


def connect(
    target: str,
    *,
    tls: bool = False,
    root_certificates: Optional[bytes] = None,
) -> pb_grpc.PasswordServiceStub:
    """A PasswordService client for ``host:port``.

    Plaintext by default; ``tls=True`` uses the system's trusted roots, or
    ``root_certificates`` (PEM bytes) for a private CA.
    """
    if tls:
        credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
        channel = grpc.secure_channel(target, credentials)
    else:
        channel = grpc.insecure_channel(target)
    return pb_grpc.PasswordServiceStub(channel)
