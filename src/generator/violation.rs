//! One vocabulary for what is wrong with a request: a field and a sentence
//! a person can act on. The gRPC layer turns a list of them into
//! `INVALID_ARGUMENT` with a `google.rpc.BadRequest` detail.

use std::fmt::Display;

/// One broken rule of a request, naming the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct FieldViolation {
    /// The field at fault, named as in the API (`length`, `page_size`, …).
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`, described by `description`.
    pub fn new(field: &'static str, description: impl Into<String>) -> Self {
        FieldViolation {
            field,
            description: description.into(),
        }
    }

    /// "`field` must be between `min` and `max`, got `got`".
    pub fn out_of_range(
        field: &'static str,
        min: impl Display,
        max: impl Display,
        got: impl Display,
    ) -> Self {
        FieldViolation::new(
            field,
            format!("{field} must be between {min} and {max}, got {got}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_names_the_field_the_range_and_the_value() {
        let violation = FieldViolation::out_of_range("length", 4, 1024, 3);
        assert_eq!(violation.field, "length");
        assert_eq!(
            violation.to_string(),
            "length must be between 4 and 1024, got 3"
        );
    }
}
