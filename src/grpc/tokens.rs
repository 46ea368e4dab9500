//! The API key calls of `giropops.v1.PasswordService`, GenerateToken and
//! CheckToken: validate → call the domain → convert. Neither touches the
//! history, and no token reaches a log line or a span: spans carry the
//! requested bits and format only, checks their verdict.

use tonic::{Request, Response, Status};
use tracing::instrument;

use super::caller;
use super::convert::{token_format, token_options};
use super::password_service::PasswordServiceImpl;
use super::policy::token_options as token_options_of;
use super::violations::with_request_violations;
use crate::generator::{TokenPolicy, check_token, generate_token, validate_token};
use crate::metrics::SecretKind;
use crate::proto::v1::{
    CheckTokenRequest, CheckTokenResponse, GenerateTokenRequest, GenerateTokenResponse,
};

impl PasswordServiceImpl {
    /// GenerateToken: one API key, never stored.
    #[instrument(level = "debug", skip_all, fields(bits = request.get_ref().bits, format = request.get_ref().format))]
    pub(super) async fn mint_token(
        &self,
        request: Request<GenerateTokenRequest>,
    ) -> Result<Response<GenerateTokenResponse>, Status> {
        // The auth layer lets `policy:` scopes reach generating calls: the
        // options spelled out need `generate` itself, a named policy its
        // scope (`super::policy`).
        let principal = caller(&request);
        let policies = self.policies().current();
        let request = token_options_of(&policies, &principal, request.get_ref())?;
        let (options, violations) = token_options(&request);
        let policy = with_request_violations(TokenPolicy::new(options), violations)?;
        let generated = generate_token(&policy, &mut rand::rng());
        self.metrics.generated(SecretKind::Token, 1);
        tracing::debug!(
            format = generated.format.name(),
            entropy_bits = generated.entropy_bits,
            "token generated"
        );
        Ok(Response::new(generated.into()))
    }

    /// CheckToken: the verdict on a token, offline; a bad token is an
    /// answer, only an empty or oversized one an error.
    #[instrument(level = "debug", skip_all)]
    pub(super) async fn verify_token(
        &self,
        request: Request<CheckTokenRequest>,
    ) -> Result<Response<CheckTokenResponse>, Status> {
        let CheckTokenRequest { token, format } = request.into_inner();
        let mut violations = Vec::new();
        let format = token_format("format", format, &mut violations);
        with_request_violations(validate_token(&token), violations)?;
        let check = check_token(&token, format);
        tracing::debug!(valid = check.valid, "token checked");
        Ok(Response::new(check.into()))
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::proto::v1::TokenFormat;

    fn service() -> PasswordServiceImpl {
        let limits = crate::grpc::ReplyLimits {
            max_response_bytes: 1 << 20,
            budget: crate::layers::shed::ResponseBudget::new(1 << 20),
        };
        PasswordServiceImpl::new(None, crate::metrics::Metrics::new(), limits)
    }

    /// `message` from a caller that may do everything.
    fn request<T>(message: T) -> Request<T> {
        with_scopes(message, "all")
    }

    /// `message` from an anonymous caller with `scopes`.
    fn with_scopes<T>(message: T, scopes: &str) -> Request<T> {
        let mut request = Request::new(message);
        let scopes = crate::auth::Scopes::parse(scopes).unwrap();
        request
            .extensions_mut()
            .insert(crate::auth::Principal::anonymous(scopes));
        request
    }

    #[tokio::test]
    async fn policy_scopes_alone_may_not_mint_a_key() {
        let status = service()
            .mint_token(with_scopes(
                GenerateTokenRequest::default(),
                "policy:pin,check",
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(
            status
                .message()
                .contains("may generate only with a named policy (pin)"),
            "{status:?}"
        );
        assert!(
            service()
                .mint_token(with_scopes(GenerateTokenRequest::default(), "generate"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn generates_and_checks_a_token() {
        let service = service();
        let reply = service
            .mint_token(request(GenerateTokenRequest {
                bits: 128,
                prefix: "gps_".into(),
                format: TokenFormat::Base32Crockford.into(),
                policy: String::new(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.token.len(), 4 + 26 + 6);
        assert_eq!(reply.entropy_bits, 130.0);
        assert_eq!(reply.format, i32::from(TokenFormat::Base32Crockford));
        let check = service
            .verify_token(request(CheckTokenRequest {
                token: reply.token,
                format: 0,
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(check.valid && check.checksummed, "{check:?}");
        assert_eq!((check.prefix.as_str(), check.entropy_bits), ("gps_", 130.0));
    }

    #[tokio::test]
    async fn the_default_is_128_bits_of_base62() {
        let reply = service()
            .mint_token(request(GenerateTokenRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.format, i32::from(TokenFormat::Base62));
        assert_eq!(reply.token.len(), 22 + 6);
        assert!(reply.token.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[tokio::test]
    async fn every_violation_at_once_with_field_details() {
        let status = service()
            .mint_token(request(GenerateTokenRequest {
                bits: 2048,
                prefix: "GPS".into(),
                format: 42,
                policy: String::new(),
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["format", "bits", "prefix"]);
        assert!(
            status
                .message()
                .contains("bits must be between 64 and 1024, got 2048")
        );
    }

    #[tokio::test]
    async fn a_bad_token_is_an_answer_an_oversized_one_an_error() {
        let service = service();
        let check = service
            .verify_token(request(CheckTokenRequest {
                token: "gps_definitely-not-a-token-0000".into(),
                format: 0,
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(!check.valid);
        assert!(check.reason.starts_with("checksum mismatch"), "{check:?}");
        let oversized = "a".repeat(513);
        let status = service
            .verify_token(request(CheckTokenRequest {
                token: oversized.clone(),
                format: 0,
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "token must be 1 to 512 bytes, got 513");
        assert!(!status.message().contains(&oversized[..40]));
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "token");
    }
}
