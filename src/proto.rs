//! Code generated from `proto/` by `build.rs`: messages, client and server.

/// `giropops.v1`: the versioned PasswordService contract.
pub mod v1 {
    tonic::include_proto!("giropops.v1");
}

/// Encoded `FileDescriptorSet` of every file in `proto/` and its imports,
/// served by gRPC reflection so grpcurl and friends need no `.proto` files.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("giropops_descriptor");
