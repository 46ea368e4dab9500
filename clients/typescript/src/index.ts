/**
 * Typed Node.js client for giropops-senhas. The generated messages and the
 * `PasswordServiceClient` (ts-proto + @grpc/grpc-js) are re-exported; `connect`
 * and the promise helpers make the common calls one-liners.
 */
import { ChannelCredentials, Metadata, ServiceError, credentials, status } from "@grpc/grpc-js";
import { PasswordServiceClient } from "./gen/giropops/v1/password_service";

export * from "./gen/giropops/v1/password_service";
export { status };
export type { ServiceError };

/** A client for `host:port`: plaintext by default, TLS with `tls: true`. */
export function connect(
  target: string,
  options: { tls?: boolean; rootCerts?: Buffer } = {},
): PasswordServiceClient {
  const creds: ChannelCredentials = options.tls
    ? credentials.createSsl(options.rootCerts ?? null)
    : credentials.createInsecure();
  return new PasswordServiceClient(target, creds);
}

/** The callback shape every generated unary method has. */
type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * Calls a unary method as a promise with a deadline, e.g.
 * `await call(client.generatePassword.bind(client), { length: 20 })`.
 * Rejections are `ServiceError`s: branch on `error.code` (`status.INVALID_ARGUMENT`…).
 */
export function call<Req, Res>(
  method: Unary<Req, Res>,
  request: Req,
  timeoutMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}
