// Calls every RPC of a running server: GIROPOPS_ADDR=http://host:port (or
// host:port) in plaintext, https://host:port over TLS with the system roots.
// Without GIROPOPS_ADDR every test is skipped, with the reason.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { ServiceError } from "@grpc/grpc-js";
import {
  CheckPasswordRequest,
  GeneratePassphraseRequest,
  GeneratePasswordRequest,
  ListPasswordsRequest,
  StreamPasswordsRequest,
  call,
  connect,
  status,
} from "../src/index";

const addr = process.env.GIROPOPS_ADDR ?? "";
const skip = addr
  ? false
  : "GIROPOPS_ADDR is not set: these tests need a running server (GIROPOPS_ADDR=http://host:port npm test); bash clients/test.sh starts one";
const client = connect(addr.replace(/^https?:\/\//, "").replace(/\/$/, "") || "localhost:50051", {
  tls: addr.startsWith("https://"),
});
after(() => client.close());

test("GeneratePassword honours the options", { skip }, async () => {
  const reply = await call(
    client.generatePassword.bind(client),
    GeneratePasswordRequest.fromPartial({ length: 18, includeNumbers: true, minSpecials: 2, count: 3 }),
  );
  assert.equal(reply.passwords.length, 3);
  assert.equal(reply.password, reply.passwords[0]);
  for (const password of reply.passwords) {
    assert.equal(password.length, 18);
    assert.match(password, /[0-9]/);
  }
  assert.ok(reply.entropyBits > 80);
  assert.ok(reply.stored);
  assert.ok(reply.createdAt instanceof Date);
});

test("INVALID_ARGUMENT names the field and the range", { skip }, async () => {
  await assert.rejects(
    call(client.generatePassword.bind(client), GeneratePasswordRequest.fromPartial({ length: 3 })),
    (error: ServiceError) => {
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.details, /length must be between 4 and 1024, got 3/);
      return true;
    },
  );
});

test("ListPasswords is newest first", { skip }, async () => {
  const generated = await call(client.generatePassword.bind(client), GeneratePasswordRequest.fromPartial({}));
  const listed = await call(client.listPasswords.bind(client), ListPasswordsRequest.fromPartial({ pageSize: 3 }));
  assert.equal(listed.passwords[0].password, generated.password);
});

test("GeneratePassphrase", { skip }, async () => {
  const reply = await call(
    client.generatePassphrase.bind(client),
    GeneratePassphraseRequest.fromPartial({ wordCount: 4, separator: "_", capitalize: true }),
  );
  const words = reply.passphrase.split("_");
  assert.equal(words.length, 4);
  for (const word of words) assert.match(word, /^[A-Z]/);
});

test("CheckPassword", { skip }, async () => {
  const weak = await call(client.checkPassword.bind(client), CheckPasswordRequest.fromPartial({ password: "password" }));
  assert.equal(weak.score, 0);
  assert.ok(weak.warning.length > 0);
});

test("StreamPasswords", { skip }, async () => {
  const stream = client.streamPasswords(StreamPasswordsRequest.fromPartial({ count: 200 }));
  const seen = new Set<string>();
  for await (const message of stream) seen.add(message.password);
  assert.equal(seen.size, 200);
});
