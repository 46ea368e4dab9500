//! Compiles `proto/` in pure Rust (protox: no system `protoc`), generates the
//! prost messages and tonic client/server, and writes the encoded descriptor
//! set that server reflection serves.
//!
//! `compile_fds` ignores `file_descriptor_set_path`, so the descriptor set is
//! written here, from the same `FileDescriptorSet` the code is generated from.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTO_ROOT: &str = "proto";
const PROTOS: &[&str] = &["proto/giropops/v1/password_service.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let fds = protox::compile(PROTOS, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("giropops_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
