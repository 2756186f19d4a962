//! What every action has in common: its wire name, its response type, its client-side validation, and its
//! encoding to flat `(name, value)` parameters.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A request that breaks a documented constraint; the message names the parameter and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError(pub String);

impl<T: Into<String>> From<T> for ValidationError {
    fn from(message: T) -> Self {
        ValidationError(message.into())
    }
}

/// Client-side checks of the reference's ranges and conditional requirements, run before any call.
pub trait Validate {
    fn validate(&self) -> Result<(), ValidationError>;
}

/// One API action: a request type whose fields serialize to the action's parameters.
pub trait Action: Serialize + Validate + Send + Sync {
    /// The `Action` parameter.
    const NAME: &'static str;
    /// Whether the action takes a `ClientToken`; the client then supplies one when the request has none, so
    /// that retries stay idempotent.
    const TAKES_CLIENT_TOKEN: bool = false;
    /// Whether repeating a call that may already have been processed is harmless. Creates that take no
    /// `ClientToken` are not (a second VServer group, a second certificate, or a confusing "already
    /// exists"): the client retries them only when the request certainly was not processed.
    const IDEMPOTENT: bool = true;
    type Response: DeserializeOwned + Send;
}

/// Encodes a request as flat parameters: scalars as their text, `None` omitted, and lists or objects (the
/// API's "JSON string" parameters such as `BackendServers`, `RuleList`, `Tags`) as JSON text.
pub fn to_params<A: Serialize>(request: &A) -> Result<Vec<(String, String)>, String> {
    let value =
        serde_json::to_value(request).map_err(|e| format!("cannot encode the request: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("a request must encode to named parameters".to_owned());
    };
    let mut params = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            nested @ (Value::Array(_) | Value::Object(_)) => {
                serde_json::to_string(&nested).map_err(|e| format!("cannot encode {name}: {e}"))?
            }
        };
        params.push((name, text));
    }
    Ok(params)
}

/// Declares the [`Action`] impl of a request type. `Request => Response = Shared` also declares
/// `Response` as the action's name for a response type that several actions share.
macro_rules! action {
    ($request:ty => $response:ident = $shared:ty, $($rest:tt)+) => {
        pub type $response = $shared;
        $crate::action::action!($request => $response, $($rest)+);
    };
    ($request:ty => $response:ty, $name:literal $(, client_token = $token:literal)? $(, idempotent = $idempotent:literal)?) => {
        impl $crate::action::Action for $request {
            const NAME: &'static str = $name;
            $(const TAKES_CLIENT_TOKEN: bool = $token;)?
            $(const IDEMPOTENT: bool = $idempotent;)?
            type Response = $response;
        }
    };
}
pub(crate) use action;

/// Serializes a list of strings as one comma-separated parameter (`LoadBalancerId=a,b`).
pub(crate) fn comma_joined<S: serde::Serializer>(
    items: &[String],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&items.join(","))
}
