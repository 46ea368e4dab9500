//! What a grpcurl-style client discovers: health, and reflection v1 and
//! v1alpha listing every service and resolving the contract.

mod support;

use prost::Message;
use support::TestServer;
use tokio_stream::StreamExt;
use tonic_reflection::pb::{v1, v1alpha};

const SERVICES: [&str; 3] = [
    "giropops.v1.PasswordService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
];

#[tokio::test]
async fn reflection_v1_lists_services_and_describes_the_contract() {
    use v1::server_reflection_client::ServerReflectionClient;
    use v1::server_reflection_request::MessageRequest;
    use v1::server_reflection_response::MessageResponse;

    let server = TestServer::stateless().await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let ask = |request: MessageRequest| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let requests = tokio_stream::iter(vec![
        ask(MessageRequest::ListServices(String::new())),
        ask(MessageRequest::FileContainingSymbol(
            "giropops.v1.PasswordService".into(),
        )),
        ask(MessageRequest::FileContainingSymbol(
            "google.rpc.BadRequest".into(),
        )),
    ]);
    let mut responses = client
        .server_reflection_info(requests)
        .await
        .unwrap()
        .into_inner();

    match responses.next().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            for service in SERVICES {
                assert!(names.iter().any(|n| n == service), "{service} in {names:?}");
            }
        }
        other => panic!("expected a service list, got {other:?}"),
    }
    match responses.next().await.unwrap().unwrap().message_response {
        Some(MessageResponse::FileDescriptorResponse(files)) => {
            let file =
                prost_types::FileDescriptorProto::decode(files.file_descriptor_proto[0].as_slice())
                    .unwrap();
            assert_eq!(file.package(), "giropops.v1");
            let methods: Vec<&str> = file.service[0].method.iter().map(|m| m.name()).collect();
            assert_eq!(
                methods,
                [
                    "GeneratePassword",
                    "ListPasswords",
                    "GeneratePassphrase",
                    "CheckPassword",
                    "StreamPasswords",
                    "ListPolicies",
                    "GenerateToken",
                    "CheckToken"
                ]
            );
        }
        other => panic!("expected a file descriptor, got {other:?}"),
    }
    match responses.next().await.unwrap().unwrap().message_response {
        Some(MessageResponse::FileDescriptorResponse(files)) => {
            assert!(
                !files.file_descriptor_proto.is_empty(),
                "error details resolvable"
            );
        }
        other => panic!("expected google.rpc descriptors, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn reflection_v1alpha_lists_services() {
    use v1alpha::server_reflection_client::ServerReflectionClient;
    use v1alpha::server_reflection_request::MessageRequest;
    use v1alpha::server_reflection_response::MessageResponse;

    let server = TestServer::stateless().await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    match responses.next().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            assert!(
                names.iter().any(|n| n == "giropops.v1.PasswordService"),
                "{names:?}"
            );
            assert!(
                names.iter().any(|n| n == "grpc.health.v1.Health"),
                "{names:?}"
            );
        }
        other => panic!("expected a service list, got {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn health_reports_unknown_services_as_not_found() {
    let server = TestServer::stateless().await;
    let status = server
        .health()
        .await
        .check(tonic_health::pb::HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(status.code(), tonic::Code::NotFound);
    server.shutdown().await;
}
