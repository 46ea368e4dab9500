//! Request-level validation shared by the handlers: count-like fields and
//! joining request violations with the domain's.

use super::error::ApiError;
use crate::generator::FieldViolation;

/// Reads a count-like field: 0 → `default`; above `max` → a violation
/// (and `default` returned, so validation goes on collecting).
pub(super) fn count_or_default(
    field: &'static str,
    requested: u32,
    default: usize,
    max: usize,
    violations: &mut Vec<FieldViolation>,
) -> usize {
    match usize::try_from(requested) {
        Ok(0) => default,
        Ok(n) if n <= max => n,
        _ => {
            violations.push(FieldViolation::out_of_range(field, 0, max, requested));
            default
        }
    }
}

/// The request-level `violations` followed by the domain's, or the
/// domain's value when there are none.
pub(super) fn with_request_violations<T>(
    domain: Result<T, Vec<FieldViolation>>,
    mut violations: Vec<FieldViolation>,
) -> Result<T, ApiError> {
    match domain {
        Ok(value) if violations.is_empty() => Ok(value),
        Ok(_) => Err(ApiError::InvalidArgument(violations)),
        Err(domain) => {
            violations.extend(domain);
            Err(ApiError::InvalidArgument(violations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::ApiError;

    #[test]
    fn counts_take_their_default_and_max() {
        let mut violations = Vec::new();
        assert_eq!(
            count_or_default("page_size", 0, 10, 1000, &mut violations),
            10
        );
        assert_eq!(
            count_or_default("page_size", 1000, 10, 1000, &mut violations),
            1000
        );
        assert!(violations.is_empty());
        count_or_default("page_size", 1001, 10, 1000, &mut violations);
        assert_eq!(violations[0].field, "page_size");
        assert_eq!(
            violations[0].description,
            "page_size must be between 0 and 1000, got 1001"
        );
    }

    #[test]
    fn every_violation_is_kept_request_level_first() {
        let request_level = vec![FieldViolation::new("count", "bad count")];
        let domain: Result<(), _> = Err(vec![FieldViolation::new("length", "bad length")]);
        match with_request_violations(domain, request_level) {
            Err(ApiError::InvalidArgument(fields)) => {
                let names: Vec<_> = fields.iter().map(|f| f.field).collect();
                assert_eq!(names, ["count", "length"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
