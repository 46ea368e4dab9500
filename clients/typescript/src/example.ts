// A tiny example: npm run build && npm run example -- [host:port]
import { GeneratePasswordRequest, call, connect, status } from "./index";
import type { ServiceError } from "@grpc/grpc-js";

async function main(): Promise<void> {
  const client = connect(process.argv[2] ?? "localhost:50051");
  const reply = await call(
    client.generatePassword.bind(client),
    GeneratePasswordRequest.fromPartial({ length: 20, includeNumbers: true, includeSpecialChars: true }),
  );
  console.log(`${reply.password} (${reply.entropyBits.toFixed(1)} bits)`);
  try {
    await call(client.generatePassword.bind(client), GeneratePasswordRequest.fromPartial({ length: 3 }));
  } catch (error) {
    const e = error as ServiceError;
    console.log(status[e.code], "-", e.details);
  }
  client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
