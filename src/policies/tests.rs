use super::*;

const GOOD: &str = r#"{"policies": [
  {"name": "db-password", "description": "Database users",
   "password": {"length": 32, "minDigits": 2, "includeSpecialChars": true, "excludeChars": "\"'\\"}},
  {"name": "pin", "password": {"length": 6, "includeLowercase": false, "includeUppercase": false, "includeNumbers": true}},
  {"name": "recovery", "passphrase": {"wordCount": 8}}
]}"#;

#[test]
fn a_good_file_loads_with_each_policy_and_its_strength() {
    let set = PolicySet::parse(GOOD.as_bytes()).expect("valid");
    assert_eq!(set.len(), 3);
    match set.get("pin") {
        Some(PolicyOptions::Password(request)) => {
            assert_eq!(request.length, 6);
            assert!(request.include_numbers);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        set.get("recovery"),
        Some(PolicyOptions::Passphrase(_))
    ));
    assert!(set.get("nope").is_none());
    let listed = set.visible_to(&Scopes::anonymous_default());
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["db-password", "pin", "recovery"]);
    let pin = &listed[1];
    assert!(
        (pin.entropy_bits - 6.0 * 10f64.log2()).abs() < 1e-9,
        "{}",
        pin.entropy_bits
    );
}

#[test]
fn policy_scopes_see_only_their_policies() {
    let set = PolicySet::parse(GOOD.as_bytes()).unwrap();
    let scopes = Scopes::parse("policy:pin,check").unwrap();
    let names: Vec<String> = set
        .visible_to(&scopes)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["pin"]);
    assert!(set.visible_to(&Scopes::parse("check").unwrap()).is_empty());
}

#[test]
fn every_problem_of_a_bad_file_is_reported_at_once() {
    let bad = r#"{"policies": [
      {"name": "Bad Name", "password": {"length": 16}},
      {"name": "short", "password": {"length": 2, "minDigits": 5}},
      {"name": "batch", "password": {"count": 5, "store": false, "policy": "x"}},
      {"name": "empty"},
      {"name": "twice", "passphrase": {"wordCount": 99}},
      {"name": "pin", "password": {}},
      {"name": "pin", "password": {}},
      {"name": "weak-key", "token": {"bits": 32, "format": "TOKEN_FORMAT_HEX"}}
    ]}"#;
    let problems = PolicySet::parse(bad.as_bytes()).unwrap_err();
    let all = problems.join("\n");
    for expected in [
        "policies[0]: name: 1 to 64",
        "policies[1]: policy \"short\": password.length: length must be between 4 and 1024, got 2",
        "policies[2]: policy \"batch\": password.count: not in a policy",
        "policies[2]: policy \"batch\": password.store: not in a policy",
        "policies[2]: policy \"batch\": password.policy: a policy cannot name another",
        "policies[3]: policy \"empty\": no options",
        "policies[4]: policy \"twice\": passphrase.word_count",
        "policy \"pin\" is defined twice",
        "policies[7]: policy \"weak-key\": token.bits",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
}

#[test]
fn what_is_not_the_contract_is_refused_without_echoing_values() {
    for bad in [
        r#"{"policies": [{"name": "x", "password": {"lenght": 16}}]}"#,
        r#"{"policies": [{"name": "x", "password": {"length": "gps_secret"}}]}"#,
        "not json",
    ] {
        let problems = PolicySet::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("not a ListPoliciesResponse"),
            "{problems:?}"
        );
        assert!(!problems[0].contains("gps_secret"), "{problems:?}");
    }
}

#[test]
fn a_missing_or_huge_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let error = PolicySet::load(&missing).unwrap_err();
    assert!(error.to_string().contains("missing.json"), "{error}");
    let huge = dir.path().join("huge.json");
    std::fs::write(&huge, vec![b' '; (MAX_FILE_BYTES + 1) as usize]).unwrap();
    let error = PolicySet::load(&huge).unwrap_err();
    assert!(error.to_string().contains("larger than"), "{error}");
}

#[test]
fn a_replaced_set_is_seen_by_every_clone() {
    let policies = Policies::default();
    let clone = policies.clone();
    assert!(clone.current().is_empty());
    policies.replace(PolicySet::parse(GOOD.as_bytes()).unwrap());
    assert_eq!(clone.current().len(), 3);
}
