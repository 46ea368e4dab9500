//! `giropops.v1.PasswordService`: validate → call the domain → convert.

use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::caller;
use super::cpu::{Built, COSTLY_POLICY_LENGTH, Cpu};
use super::error::{ApiError, BusyReason};
use super::policy::{passphrase_options, password_options};
use super::violations::{count_or_default, with_request_violations};
use crate::auth::{Principal, Scope};
use crate::generator::{
    FieldViolation, MAX_LENGTH, PassphraseOptions, PassphrasePolicy, PasswordOptions,
    PasswordPolicy, generate_passphrase, generate_password, score_password, validate_check,
};
use crate::history::{History, Record};
use crate::layers::shed::{Reservation, ResponseBudget};
use crate::metrics::{Metrics, SecretKind};
use crate::policies::Policies;
use crate::proto::v1::password_service_server::PasswordService;
use crate::proto::v1::{
    CheckPasswordRequest, CheckPasswordResponse, CheckTokenRequest, CheckTokenResponse,
    GeneratePassphraseRequest, GeneratePassphraseResponse, GeneratePasswordRequest,
    GeneratePasswordResponse, GenerateTokenRequest, GenerateTokenResponse, ListPasswordsRequest,
    ListPasswordsResponse, ListPoliciesRequest, ListPoliciesResponse, StreamPasswordsRequest,
    StreamPasswordsResponse,
};

pub use crate::proto::v1::password_service_server::PasswordServiceServer;

/// `page_size` used when a request leaves it at 0.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// Largest `page_size` accepted.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Most passwords one GeneratePassword call returns.
pub const MAX_BATCH: usize = 1000;
/// Most passwords one StreamPasswords call streams.
pub const MAX_STREAM: usize = 100_000;
/// Messages generated ahead of a slow reader: the stream's back-pressure.
const STREAM_BUFFER: usize = 64;

/// Bytes a history entry adds to a `ListPasswords` reply besides its
/// password and principal (timestamp, entropy, length, framing): for the
/// size bound.
const RECORD_OVERHEAD_BYTES: usize = 40;
/// Principal bytes reserved per entry before the page is read: a token
/// name is at most 64 (a longer certificate SAN is counted exactly once
/// read, when the page is cut to the largest reply).
const PRINCIPAL_ESTIMATE_BYTES: usize = crate::auth::tokens::MAX_NAME_LEN;
/// Characters of a batch above which it is generated on a blocking
/// thread, not on the async reactor (1000 × 1024 takes ~15 ms).
const BLOCKING_BATCH_CHARS: usize = 64 * 1024;

/// What bounds a PasswordService reply.
#[derive(Debug, Clone)]
pub struct ReplyLimits {
    /// Largest unary reply, computed before any work.
    pub max_response_bytes: usize,
    /// The response byte budget replies reserve from.
    pub budget: ResponseBudget,
}

/// The PasswordService implementation. `history` is `None` when the server
/// keeps no history (cap 0): it then needs no Redis at all.
#[derive(Debug, Clone)]
pub struct PasswordServiceImpl {
    history: Option<History>,
    pub(super) metrics: Metrics,
    limits: ReplyLimits,
    /// CPU-heavy work (zxcvbn, the largest batches, the costliest
    /// policies) on at most half the cores, so the others stay free for
    /// every other call.
    cpu: Cpu,
    /// The named policies (`--policies-file`; none by default).
    policies: Policies,
}

impl PasswordServiceImpl {
    /// A service storing into `history` (nothing when `None`), counting
    /// into `metrics`, its replies bounded by `limits`.
    pub fn new(history: Option<History>, metrics: Metrics, limits: ReplyLimits) -> Self {
        PasswordServiceImpl {
            cpu: Cpu::new(metrics.clone()),
            history,
            metrics,
            limits,
            policies: Policies::default(),
        }
    }

    /// This service with the named `policies` (shared with the reloader).
    pub fn with_policies(self, policies: Policies) -> Self {
        PasswordServiceImpl { policies, ..self }
    }

    /// The named policies.
    pub(super) fn policies(&self) -> &Policies {
        &self.policies
    }

    /// Reserves `bytes` of the response budget for the reply to `request`.
    fn reserve<T>(&self, request: &Request<T>, bytes: usize) -> Result<Reservation, ApiError> {
        self.limits
            .budget
            .reserve(request, bytes)
            .ok_or(ApiError::Busy(BusyReason::ResponseBytes))
    }

    /// Stores `records` in `principal`'s history when asked and possible
    /// (a history exists and the principal may hold one); says whether it
    /// did.
    async fn store(
        &self,
        principal: &Principal,
        records: &[Record],
        wanted: bool,
    ) -> Result<bool, ApiError> {
        match &self.history {
            Some(history) if wanted && principal.scopes.grants(Scope::History) => {
                let pushed = history.push(&principal.name, records).await;
                self.metrics.history_write(pushed.is_ok());
                pushed?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[tonic::async_trait]
impl PasswordService for PasswordServiceImpl {
    async fn generate_password(
        &self,
        request: Request<GeneratePasswordRequest>,
    ) -> Result<Response<GeneratePasswordResponse>, Status> {
        self.generate(request).await
    }

    async fn list_passwords(
        &self,
        request: Request<ListPasswordsRequest>,
    ) -> Result<Response<ListPasswordsResponse>, Status> {
        self.list(request).await
    }

    async fn generate_passphrase(
        &self,
        request: Request<GeneratePassphraseRequest>,
    ) -> Result<Response<GeneratePassphraseResponse>, Status> {
        self.passphrase(request).await
    }

    async fn check_password(
        &self,
        request: Request<CheckPasswordRequest>,
    ) -> Result<Response<CheckPasswordResponse>, Status> {
        self.check(request).await
    }

    async fn list_policies(
        &self,
        request: Request<ListPoliciesRequest>,
    ) -> Result<Response<ListPoliciesResponse>, Status> {
        self.list_policies(request).await
    }

    type StreamPasswordsStream = ReceiverStream<Result<StreamPasswordsResponse, Status>>;

    async fn stream_passwords(
        &self,
        request: Request<StreamPasswordsRequest>,
    ) -> Result<Response<Self::StreamPasswordsStream>, Status> {
        self.stream(request).await
    }

    async fn generate_token(
        &self,
        request: Request<GenerateTokenRequest>,
    ) -> Result<Response<GenerateTokenResponse>, Status> {
        self.mint_token(request).await
    }

    async fn check_token(
        &self,
        request: Request<CheckTokenRequest>,
    ) -> Result<Response<CheckTokenResponse>, Status> {
        self.verify_token(request).await
    }
}

/// The calls themselves: validate → call the domain → convert.
impl PasswordServiceImpl {
    #[instrument(level = "debug", skip_all, fields(length = request.get_ref().length, count = request.get_ref().count))]
    async fn generate(
        &self,
        request: Request<GeneratePasswordRequest>,
    ) -> Result<Response<GeneratePasswordResponse>, Status> {
        let principal = caller(&request);
        let policies = self.policies.current();
        let options = password_options(&policies, &principal, request.get_ref(), "policy")?;
        let mut violations = Vec::new();
        let count = count_or_default("count", options.count, 1, MAX_BATCH, &mut violations);
        let store = options.store.unwrap_or(true);
        let built = self
            .cpu
            .password_policy(PasswordOptions::from(&*options))
            .await?;
        let Built { policy, core } = with_request_violations(built, violations)?;
        let chars = count * policy.length();
        if chars > self.limits.max_response_bytes {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "count",
                format!(
                    "count × length must be at most {} characters (the server's largest reply), got {count} × {} = {chars}",
                    self.limits.max_response_bytes,
                    policy.length()
                ),
            )])
            .into());
        }
        // Both the list and the first password again, plus framing.
        let reservation = self.reserve(&request, chars + policy.length() + 8 * count + 64)?;

        let records = match core {
            // A costly policy is generated from on the core it was built on,
            // then dropped: it never waits for a core of its own.
            Some(core) => {
                self.cpu
                    .run(core, move || generate_records(&policy, count))
                    .await?
            }
            // Like strength checks: on at most half the cores at once.
            None if chars > BLOCKING_BATCH_CHARS => {
                let core = self.cpu.core().await?;
                self.cpu
                    .run(core, move || generate_records(&policy, count))
                    .await?
            }
            None => generate_records(&policy, count),
        };
        self.metrics.generated(SecretKind::Password, count as u64);
        let stored = self.store(&principal, &records, store).await?;
        tracing::debug!(count, stored, "passwords generated");
        let first = &records[0];
        Ok(with_reservation(
            GeneratePasswordResponse {
                password: first.password.expose().to_owned(),
                entropy_bits: first.entropy_bits,
                created_at: first.created_at.map(Into::into),
                stored,
                passwords: records
                    .into_iter()
                    .map(|r| r.password.into_exposed())
                    .collect(),
            },
            reservation,
        ))
    }

    #[instrument(level = "debug", skip_all, fields(page_size = request.get_ref().page_size))]
    async fn list(
        &self,
        request: Request<ListPasswordsRequest>,
    ) -> Result<Response<ListPasswordsResponse>, Status> {
        let mut violations = Vec::new();
        let page_size = count_or_default(
            "page_size",
            request.get_ref().page_size,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
            &mut violations,
        );
        with_request_violations(Ok(()), violations)?;
        let history = self.history.as_ref().ok_or(ApiError::HistoryDisabled)?;
        // The largest page this request can produce, reserved before any
        // work: a spent budget is refused before Redis is asked.
        let worst = (page_size * (MAX_LENGTH + PRINCIPAL_ESTIMATE_BYTES + RECORD_OVERHEAD_BYTES))
            .min(self.limits.max_response_bytes);
        let reservation = self.reserve(&request, worst)?;
        let principal = caller(&request);
        // The auth layer let only callers with `history` this far.
        let listing = if principal.scopes.grants(Scope::HistoryAll) {
            history.recent_all(page_size).await
        } else {
            history.recent(&principal.name, page_size).await
        }
        .map_err(ApiError::from)?;
        for skip in &listing.skipped {
            self.metrics.history_entry_skipped(*skip);
        }
        let mut records = listing.records;
        // A page holds at most the largest reply: newest entries first.
        let mut bytes = 0;
        let fits = records
            .iter()
            .take_while(|record| {
                bytes +=
                    record.password.expose().len() + record.principal.len() + RECORD_OVERHEAD_BYTES;
                bytes <= self.limits.max_response_bytes
            })
            .count();
        records.truncate(fits);
        tracing::debug!(returned = records.len(), "passwords listed");
        Ok(with_reservation(
            ListPasswordsResponse {
                passwords: records.into_iter().map(Into::into).collect(),
            },
            reservation,
        ))
    }

    #[instrument(level = "debug", skip_all, fields(word_count = request.get_ref().word_count))]
    async fn passphrase(
        &self,
        request: Request<GeneratePassphraseRequest>,
    ) -> Result<Response<GeneratePassphraseResponse>, Status> {
        let principal = caller(&request);
        let policies = self.policies.current();
        let request = passphrase_options(&policies, &principal, request.get_ref())?;
        let policy =
            PassphrasePolicy::new(PassphraseOptions::from(&*request)).map_err(ApiError::from)?;
        let generated = generate_passphrase(&policy, &mut rand::rng());
        self.metrics.generated(SecretKind::Passphrase, 1);
        let record = Record::new(
            generated.passphrase,
            generated.entropy_bits,
            SystemTime::now(),
        );
        let stored = self
            .store(
                &principal,
                std::slice::from_ref(&record),
                request.store.unwrap_or(true),
            )
            .await?;
        tracing::debug!(stored, "passphrase generated");
        Ok(Response::new(GeneratePassphraseResponse {
            entropy_bits: record.entropy_bits,
            created_at: record.created_at.map(Into::into),
            stored,
            passphrase: record.password.into_exposed(),
        }))
    }

    #[instrument(level = "debug", skip_all)]
    async fn check(
        &self,
        request: Request<CheckPasswordRequest>,
    ) -> Result<Response<CheckPasswordResponse>, Status> {
        let CheckPasswordRequest {
            password,
            user_inputs,
        } = request.into_inner();
        // Cheap checks first: a bad request never waits for a core.
        validate_check(&password, &user_inputs).map_err(ApiError::from)?;
        // zxcvbn is CPU work of up to tens of milliseconds: off the
        // reactor, one per core. The permit moves into the blocking task,
        // so it is held for the whole run even if the caller goes away.
        let core = self.cpu.core().await?;
        let strength = self
            .cpu
            .run(core, move || score_password(&password, &user_inputs))
            .await?;
        tracing::debug!(score = strength.score, "password checked");
        Ok(Response::new(strength.into()))
    }

    #[instrument(level = "debug", skip_all, fields(count = request.get_ref().count))]
    async fn stream(
        &self,
        request: Request<StreamPasswordsRequest>,
    ) -> Result<Response<ReceiverStream<Result<StreamPasswordsResponse, Status>>>, Status> {
        let principal = caller(&request);
        let StreamPasswordsRequest { options, count } = request.into_inner();
        let options = options.unwrap_or_default();
        let policies = self.policies.current();
        let options = password_options(&policies, &principal, &options, "options.policy")?;
        let mut violations = Vec::new();
        let count = count_or_default("count", count, 1, MAX_STREAM, &mut violations);
        if options.count > 1 {
            violations.push(FieldViolation::new(
                "options.count",
                format!(
                    "options.count must be 0 or 1 in a stream (use count), got {}",
                    options.count
                ),
            ));
        }
        if options.store == Some(true) {
            violations.push(FieldViolation::new(
                "options.store",
                "streamed passwords are never stored: leave options.store unset or false",
            ));
        }
        let password_options = PasswordOptions::from(&*options);
        // A long policy lives as long as its stream: a few at once.
        let slot = (password_options.length > COSTLY_POLICY_LENGTH)
            .then(|| self.cpu.costly_stream())
            .transpose()?;
        let built = self.cpu.password_policy(password_options).await?;
        let Built { policy, core } = with_request_violations(built, violations)?;
        drop(core);

        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let _slot = slot;
            for sent in 0..count {
                let generated = generate_password(&policy, &mut rand::rng());
                metrics.generated(SecretKind::Password, 1);
                // `send` waits while the buffer is full (back-pressure) and
                // fails once the client has gone: then stop generating.
                if sender.send(Ok(generated.into())).await.is_err() {
                    tracing::debug!(sent, count, "stream cancelled by the client");
                    return;
                }
            }
            tracing::debug!(count, entropy_bits = policy.entropy_bits(), "stream done");
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// `count` passwords of `policy`, stamped now.
fn generate_records(policy: &PasswordPolicy, count: usize) -> Vec<Record> {
    let mut rng = rand::rng();
    (0..count)
        .map(|_| Record::from(generate_password(policy, &mut rng)))
        .collect()
}

/// `reply`, carrying `reservation` to the layer that holds it until the
/// reply has been sent.
fn with_reservation<T>(reply: T, reservation: Reservation) -> Response<T> {
    let mut response = Response::new(reply);
    response.extensions_mut().insert(reservation);
    response
}
