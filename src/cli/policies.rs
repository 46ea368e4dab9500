//! `policies`: the server's named policies the caller may use, one line
//! each (`--json`: the reply in proto3's JSON mapping).

use serde_json::{Value, json};

use super::args::PoliciesArgs;
use super::commands::{CommandError, Render};
use crate::proto::v1::policy::Options;
use crate::proto::v1::{ListPoliciesRequest, ListPoliciesResponse, Policy};

/// Lists the policies.
pub(super) async fn list(args: PoliciesArgs) -> Result<(), CommandError> {
    let PoliciesArgs { client } = args;
    let reply = client
        .connect()
        .await?
        .list_policies(ListPoliciesRequest {})
        .await
        .map_err(|status| client.failed(status))?;
    client.print(reply.get_ref());
    Ok(())
}

/// What a policy makes: `password` or `passphrase`.
fn kind(options: Option<&Options>) -> &'static str {
    match options {
        Some(Options::Password(_)) => "password",
        Some(Options::Passphrase(_)) => "passphrase",
        Some(Options::Token(_)) => "token",
        None => "-",
    }
}

impl Render for ListPoliciesResponse {
    fn json(&self) -> Value {
        let ListPoliciesResponse { policies } = self;
        let policies: Vec<Value> = policies
            .iter()
            .map(|policy| {
                let Policy {
                    name,
                    description,
                    options,
                    entropy_bits,
                } = policy;
                json!({
                    "name": name,
                    "description": description,
                    "kind": kind(options.as_ref()),
                    "entropyBits": entropy_bits,
                })
            })
            .collect();
        json!({ "policies": policies })
    }

    fn human(&self) {
        let ListPoliciesResponse { policies } = self;
        if policies.is_empty() {
            eprintln!("(no policies you may use on this server)");
        }
        for policy in policies {
            let Policy {
                name,
                description,
                options,
                entropy_bits,
            } = policy;
            println!(
                "{name}\t{}\t{entropy_bits:.1} bits\t{description}",
                kind(options.as_ref())
            );
        }
    }
}
