//! JSON ⇄ protobuf for every message of the contract, derived from the
//! descriptors the code is generated from (prost-reflect): proto3's
//! canonical JSON mapping (camelCase names, or the proto names; enums by
//! name; 64-bit integers as strings; well-known types such as Timestamp as
//! RFC 3339), unknown fields refused. Nothing here is written per message:
//! a new field or RPC in `proto/` is served as JSON with no change.

use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, MethodDescriptor,
    SerializeOptions,
};

use crate::proto::FILE_DESCRIPTOR_SET;

/// The services reachable over Connect (reflection is bidirectional
/// streaming: gRPC only).
const SERVICES: &[&str] = &["giropops.v1.PasswordService", "grpc.health.v1.Health"];

/// The contract's descriptors: ours, grpc.health.v1 and google.rpc's error
/// details.
#[derive(Debug, Clone)]
pub struct Codec {
    pool: DescriptorPool,
}

/// Why a request body is not a valid message: said to the caller. Values
/// the caller sent are never quoted back (a password field with a wrong
/// type must not be echoed into an error, a log or a proxy's capture).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadMessage(pub String);

impl Codec {
    /// Loads the descriptor sets compiled into the binary.
    pub fn new() -> Self {
        let mut pool = DescriptorPool::new();
        for set in [
            FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_types::pb::FILE_DESCRIPTOR_SET,
        ] {
            pool.decode_file_descriptor_set(set)
                .expect("the descriptor sets compiled into the binary are valid");
        }
        Codec { pool }
    }

    /// The method a Connect path (`/package.Service/Method`) names, if it
    /// is one Connect serves.
    pub fn method(&self, path: &str) -> Option<MethodDescriptor> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        if !SERVICES.contains(&service) {
            return None;
        }
        self.pool
            .get_service_by_name(service)?
            .methods()
            .find(|candidate| candidate.name() == method)
    }

    /// The descriptor of the message named `full_name`
    /// (`giropops.v1.Policy`), if the contract has it.
    pub fn message_descriptor(&self, full_name: &str) -> Option<MessageDescriptor> {
        self.pool.get_message_by_name(full_name)
    }

    /// A JSON message of type `descriptor`, as protobuf bytes.
    pub fn json_to_proto(
        &self,
        descriptor: &MessageDescriptor,
        json: &[u8],
    ) -> Result<Vec<u8>, BadMessage> {
        let json = if json.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            json
        };
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let message = DynamicMessage::deserialize_with_options(
            descriptor.clone(),
            &mut deserializer,
            &DeserializeOptions::new().deny_unknown_fields(true),
        )
        .and_then(|message| deserializer.end().map(|()| message))
        .map_err(|error| BadMessage(without_values(&error.to_string())))?;
        Ok(message.encode_to_vec())
    }

    /// Checks that `bytes` decode as a `descriptor` (a binary Connect
    /// request is handed on as it came, once it is known to be valid).
    pub fn check_proto(
        &self,
        descriptor: &MessageDescriptor,
        bytes: &[u8],
    ) -> Result<(), BadMessage> {
        DynamicMessage::decode(descriptor.clone(), bytes)
            .map(drop)
            .map_err(|error| {
                BadMessage(format!(
                    "the body is not a valid {}: {error}",
                    descriptor.full_name()
                ))
            })
    }

    /// Protobuf bytes of a `descriptor` message, as canonical JSON.
    pub fn proto_to_json(
        &self,
        descriptor: &MessageDescriptor,
        bytes: &[u8],
    ) -> Result<Vec<u8>, prost::DecodeError> {
        let message = DynamicMessage::decode(descriptor.clone(), bytes)?;
        Ok(self.to_json(&message))
    }

    /// The JSON form of an error detail (a `google.protobuf.Any`), for
    /// Connect's `debug` member, when its type is known here.
    pub fn detail_json(&self, type_name: &str, value: &[u8]) -> Option<serde_json::Value> {
        let descriptor = self.pool.get_message_by_name(type_name)?;
        let message = DynamicMessage::decode(descriptor, value).ok()?;
        serde_json::from_slice(&self.to_json(&message)).ok()
    }

    fn to_json(&self, message: &DynamicMessage) -> Vec<u8> {
        let mut out = serde_json::Serializer::new(Vec::new());
        message
            .serialize_with_options(&mut out, &SerializeOptions::new())
            .expect("a decoded message serializes to JSON");
        out.into_inner()
    }
}

impl Default for Codec {
    fn default() -> Self {
        Codec::new()
    }
}

/// `error` with every quoted value replaced by `…`: serde's messages quote
/// what was sent (`invalid type: string "hunter2", expected …`), and what
/// was sent may be a password. Field names (in backticks) stay.
fn without_values(error: &str) -> String {
    let mut out = String::with_capacity(error.len());
    let mut quoted = false;
    for c in error.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(codec: &Codec, path: &str) -> MessageDescriptor {
        codec.method(path).unwrap().input()
    }

    #[test]
    fn canonical_json_both_ways() {
        let codec = Codec::new();
        let input = request(&codec, "/giropops.v1.PasswordService/GeneratePassword");
        let bytes = codec
            .json_to_proto(
                &input,
                br#"{"length": 20, "includeNumbers": true, "min_digits": 2}"#,
            )
            .unwrap();
        let decoded = crate::proto::v1::GeneratePasswordRequest::decode(&bytes[..]).unwrap();
        assert_eq!(
            (decoded.length, decoded.include_numbers, decoded.min_digits),
            (20, true, 2)
        );
        let json = codec.proto_to_json(&input, &bytes).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"length": 20, "includeNumbers": true, "minDigits": 2})
        );
        // An empty body is the empty message.
        assert_eq!(codec.json_to_proto(&input, b" ").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused_without_echoing_values() {
        let codec = Codec::new();
        let input = request(&codec, "/giropops.v1.PasswordService/CheckPassword");
        let unknown = codec
            .json_to_proto(&input, br#"{"pasword": "x"}"#)
            .unwrap_err();
        assert!(
            unknown.0.contains("unrecognized field name 'pasword'"),
            "{unknown}"
        );
        let wrong = codec
            .json_to_proto(&input, br#"{"userInputs": "hunter2-secret"}"#)
            .unwrap_err();
        assert!(!wrong.0.contains("hunter2"), "{wrong}");
        assert!(wrong.0.contains("invalid type"), "{wrong}");
        let trailing = codec.json_to_proto(&input, br#"{} {}"#).unwrap_err();
        assert!(trailing.0.contains("trailing"), "{trailing}");
    }

    #[test]
    fn only_served_methods_are_found() {
        let codec = Codec::new();
        assert!(codec.method("/grpc.health.v1.Health/Check").is_some());
        let stream = codec
            .method("/giropops.v1.PasswordService/StreamPasswords")
            .unwrap();
        assert!(stream.is_server_streaming() && !stream.is_client_streaming());
        for path in [
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/giropops.v1.PasswordService/Nope",
            "/giropops.v1.PasswordService",
            "/",
            "",
        ] {
            assert!(codec.method(path).is_none(), "{path}");
        }
    }

    #[test]
    fn error_details_render_as_json() {
        let codec = Codec::new();
        let detail = tonic_types::pb::BadRequest {
            field_violations: vec![tonic_types::pb::bad_request::FieldViolation {
                field: "length".into(),
                description: "length must be between 4 and 1024, got 3".into(),
                ..Default::default()
            }],
        };
        let json = codec
            .detail_json("google.rpc.BadRequest", &detail.encode_to_vec())
            .unwrap();
        assert_eq!(json["fieldViolations"][0]["field"], "length");
        assert!(codec.detail_json("no.such.Type", b"").is_none());
    }
}
