//! Property tests: any accepted request yields passwords meeting every rule
//! it asked for; any rejected request changes nothing in Redis.

mod support;

use giropops_senhas::generator::{PasswordOptions, PasswordPolicy, generate_password};
use giropops_senhas::proto::v1::GeneratePasswordRequest;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::{RedisServer, TestServer, constraints, redis_config};
use tonic::Code;

/// Requests around every boundary: lengths near the limits, minimums that
/// may or may not fit, toggles, exclusions and custom specials.
fn requests() -> impl Strategy<Value = GeneratePasswordRequest> {
    let charset = prop::collection::vec(prop::char::range(' ', '~'), 0..12)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    let specials = prop_oneof![
        Just(String::new()),
        Just("!@#".to_owned()),
        Just("a-_".to_owned()),
        charset.clone(),
    ];
    (
        prop_oneof![0u32..=40, Just(1024), Just(1025), 3u32..=5],
        any::<(bool, bool)>(),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        (0u32..6, 0u32..6, 0u32..6, 0u32..6),
        any::<bool>(),
        charset,
        specials,
    )
        .prop_map(
            |(
                length,
                (numbers, specials_on),
                lower,
                upper,
                mins,
                ambiguous,
                exclude,
                special_chars,
            )| {
                GeneratePasswordRequest {
                    length,
                    include_numbers: numbers,
                    include_special_chars: specials_on,
                    include_lowercase: lower,
                    include_uppercase: upper,
                    min_lowercase: mins.0,
                    min_uppercase: mins.1,
                    min_digits: mins.2,
                    min_specials: mins.3,
                    exclude_ambiguous: ambiguous,
                    exclude_chars: exclude,
                    special_chars,
                    count: 0,
                    store: None,
                    policy: String::new(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The pure generator: an accepted policy's passwords meet every rule.
    #[test]
    fn accepted_policies_produce_compliant_passwords(request in requests(), seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        if let Ok(policy) = PasswordPolicy::new(PasswordOptions::from(&request)) {
            for _ in 0..4 {
                let password = generate_password(&policy, &mut rng).password;
                if let Err(broken) = constraints::check(&request, password.expose()) {
                    prop_assert!(false, "{request:?}: {broken}");
                }
            }
        }
    }
}

/// Through the real server: accepted → compliant and stored; rejected →
/// INVALID_ARGUMENT and Redis untouched.
#[test]
fn server_accepts_compliantly_and_rejects_without_writing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let redis = RedisServer::start();
    let server = runtime.block_on(TestServer::start(redis_config(&redis.url(), 10000)));
    let client = runtime.block_on(server.client());
    let key = support::ANONYMOUS_LIST;

    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(128));
    let (accepted, rejected) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&requests(), |request| {
            let before = redis.list(key).len();
            let mut client = client.clone();
            match runtime.block_on(client.generate_password(request.clone())) {
                Ok(response) => {
                    accepted.set(accepted.get() + 1);
                    let response = response.into_inner();
                    if let Err(broken) = constraints::check(&request, &response.password) {
                        prop_assert!(false, "{request:?}: {broken}");
                    }
                    prop_assert_eq!(redis.list(key).len(), before + 1);
                }
                Err(status) => {
                    rejected.set(rejected.get() + 1);
                    prop_assert_eq!(status.code(), Code::InvalidArgument);
                    prop_assert_eq!(
                        redis.list(key).len(),
                        before,
                        "a rejected request wrote to redis"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    let (accepted, rejected) = (accepted.get(), rejected.get());
    assert!(
        accepted > 10 && rejected > 10,
        "both paths exercised: {accepted} accepted, {rejected} rejected"
    );
    runtime.block_on(server.shutdown());
}
