//! Code generated from `proto/` by `build.rs`: messages, client and server.
//! Generated code is fenced here: the workspace lints do not apply to it.
#![allow(missing_docs, unreachable_pub, missing_debug_implementations)]
#![allow(clippy::all, clippy::pedantic)]

/// `giropops.v1`: the versioned PasswordService contract.
pub mod v1 {
    tonic::include_proto!("giropops.v1");
}

/// Encoded `FileDescriptorSet` of every file in `proto/` and its imports,
/// served by gRPC reflection so grpcurl and friends need no `.proto` files.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("giropops_descriptor");
