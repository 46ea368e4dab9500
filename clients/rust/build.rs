//! Compiles the contract in `proto/` (at the workspace root) in pure Rust
//! (protox: no system `protoc`), generates the prost messages and the tonic
//! client and server, and writes the encoded descriptor set that server
//! reflection serves.
//!
//! `compile_fds` ignores `file_descriptor_set_path`, so the descriptor set is
//! written here, from the same `FileDescriptorSet` the code is generated from.

use std::{env, fs, path::PathBuf};

use prost::Message;

/// Every message with a password, passphrase or token in it.
const SECRET_MESSAGES: &[&str] = &[
    "GeneratePasswordResponse",
    "PasswordRecord",
    "GeneratePassphraseResponse",
    "CheckPasswordRequest",
    "StreamPasswordsResponse",
    "GenerateTokenResponse",
    "CheckTokenRequest",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let proto = proto_root.join("giropops/v1/password_service.proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());
    let fds = protox::compile([&proto], [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("giropops_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Messages that hold a secret get a redacting `Debug` by hand
        // (src/redact.rs): prost's derived one would print it.
        .skip_debug(
            SECRET_MESSAGES
                .iter()
                .map(|name| format!(".giropops.v1.{name}")),
        )
        .compile_fds(fds)?;
    Ok(())
}
