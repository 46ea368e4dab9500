"""Tiny example: python example.py [host:port]"""

import sys

import grpc

from giropops_senhas_client import connect, pb

client = connect(sys.argv[1] if len(sys.argv) > 1 else "localhost:50051")
reply = client.GeneratePassword(
    pb.GeneratePasswordRequest(length=20, include_numbers=True, include_special_chars=True),
    timeout=5,
)
print(reply.password, f"({reply.entropy_bits:.1f} bits)")

try:
    client.GeneratePassword(pb.GeneratePasswordRequest(length=3), timeout=5)
except grpc.RpcError as error:
    print(error.code().name, "-", error.details())
