//! The HTTP endpoint: one handler for `/` that merges query and form parameters, authenticates, applies
//! faults, dispatches on Action over the shared state, persists writes, logs the call and renders the answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;

use crate::actions::{self, Ctx};
use crate::auth::{self, NonceRegistry};
use crate::calls::{CallLog, CallRecord};
use crate::clock;
use crate::config::{Account, Config, EcsInstance, TransitionDelays};
use crate::error::{self, ApiError};
use crate::faults::FaultState;
use crate::health::HealthOverride;
use crate::ids::SplitMix64;
use crate::params::{COMMON_PARAMETERS, Params};
use crate::persist::Durable;
use crate::render::{self, Format};
use crate::state::{AccountState, Dirty, Store};

/// Parameters whose values never reach the call log or the tracing output.
const SECRET_PARAMETERS: &[&str] = &["PrivateKey"];
/// Long values (certificate bodies) are cut in the call log.
const LOGGED_VALUE_LIMIT: usize = 256;

/// State shared by every request.
pub struct Shared {
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    pub delays: TransitionDelays,
    pub tolerance_ms: u64,
    /// The state file's database, when state is durable.
    pub durable: Option<Durable>,
    pub store: Mutex<Store>,
    pub ecs: RwLock<Option<Vec<EcsInstance>>>,
    pub health: RwLock<Vec<HealthOverride>>,
    pub faults: Mutex<FaultState>,
    pub calls: Mutex<CallLog>,
    pub nonces: NonceRegistry,
}

impl Shared {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let (durable, mut store) = match &config.state_file {
            Some(path) => {
                let (durable, store) = Durable::open(path)?;
                (Some(durable), store)
            }
            None => (None, Store::default()),
        };
        if store.id_state == 0 {
            store.id_state = config.id_seed;
        }
        store.accounts.values_mut().for_each(AccountState::reindex);
        Ok(Self {
            accounts: config.accounts.clone(),
            regions: config.regions.clone(),
            delays: config.delays,
            tolerance_ms: u64::try_from(config.timestamp_tolerance.as_millis()).unwrap_or(u64::MAX),
            durable,
            store: Mutex::new(store),
            ecs: RwLock::new(config.ecs_instances.clone()),
            health: RwLock::new(Vec::new()),
            faults: Mutex::new(FaultState::new(config.faults.clone())),
            calls: Mutex::new(CallLog::new(
                config.call_log_capacity,
                config.call_log_max_bytes,
            )),
            nonces: NonceRegistry::default(),
        })
    }

    /// Saves the whole store, replacing what was saved (for changes made behind the API's back).
    pub fn persist(&self, store: &Store) -> std::io::Result<()> {
        match &self.durable {
            Some(durable) => durable.save_all(store),
            None => Ok(()),
        }
    }

    /// Clears every account's resources, the call log, overrides and used nonces. The ID generator and address
    /// counter keep going, so that an ID handed out before a reset never names a different resource after it.
    pub fn reset(&self) -> std::io::Result<()> {
        let mut store = self.store.lock();
        store.accounts.clear();
        self.persist(&store)?;
        drop(store);
        self.calls.lock().clear();
        self.health.write().clear();
        self.nonces.clear();
        Ok(())
    }

    /// Runs one authenticated call against the state.
    fn execute(
        &self,
        account: &Account,
        action: &str,
        params: &Params,
    ) -> Result<actions::Response, ApiError> {
        let region = match params.get("RegionId") {
            Some(r) if self.regions.iter().any(|known| known == r) => Some(r.to_string()),
            Some(_) => return Err(error::REGION_NOT_FOUND),
            None if actions::region_required(action) => return Err(ApiError::missing("RegionId")),
            None => None,
        };
        let ecs = self.ecs.read();
        let health = self.health.read();
        let mut store = self.store.lock();
        let result = {
            let Store {
                accounts,
                id_state,
                next_address,
                next_sequence,
            } = &mut *store;
            let mut rng = SplitMix64::new(*id_state);
            let mut ctx = Ctx {
                account,
                state: accounts.entry(account.account_id.clone()).or_default(),
                region,
                regions: &self.regions,
                now_ms: clock::now_ms(),
                delays: self.delays,
                ecs: ecs.as_deref(),
                health: &health,
                rng: &mut rng,
                next_address,
                next_sequence,
            };
            let result = actions::dispatch(action, &mut ctx, params);
            *id_state = rng.state();
            result
        };
        let saved = match (&self.durable, store.accounts.get(&account.account_id)) {
            (Some(durable), Some(state)) if result.is_ok() && actions::is_write(action) => {
                // Committed before the answer, so an acknowledged call survives a crash.
                durable.save_changes(&store, &account.account_id, state)
            }
            _ => Ok(()),
        };
        // Reads mark what they look at too; forget it all after every call.
        if let Some(state) = store.accounts.get_mut(&account.account_id) {
            state.dirty = Dirty::default();
        }
        saved.map_err(|e| {
            tracing::error!(error = %e, "could not save the state file");
            error::INTERNAL_FAILURE
        })?;
        result
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", any(api))
        .nest("/__admin", crate::admin::router())
        .with_state(shared)
}

/// Query-string and form-body parameters together (the SDKs sign both as one set).
fn merge_parameters(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Result<Params, ApiError> {
    let mut values = BTreeMap::new();
    if let Some(query) = uri.query() {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|_| error::INVALID_PARAMETER)?;
        values.extend(pairs);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !body.is_empty()
        && (content_type.is_empty() || content_type.contains("x-www-form-urlencoded"))
    {
        let text = std::str::from_utf8(body).map_err(|_| error::INVALID_PARAMETER)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(text).map_err(|_| error::INVALID_PARAMETER)?;
        values.extend(pairs);
    }
    Ok(Params::new(values))
}

fn logged_parameters(params: &Params) -> BTreeMap<String, String> {
    params
        .iter()
        .filter(|(k, _)| !COMMON_PARAMETERS.contains(k))
        .map(|(k, v)| {
            let value = if SECRET_PARAMETERS.contains(&k) {
                "<redacted>".to_string()
            } else if v.len() > LOGGED_VALUE_LIMIT {
                let cut = (0..=LOGGED_VALUE_LIMIT)
                    .rev()
                    .find(|i| v.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("{}…", &v[..cut])
            } else {
                v.to_string()
            };
            (k.to_string(), value)
        })
        .collect()
}

async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let arrived_ms = clock::now_ms();
    let request_id = uuid::Uuid::new_v4().to_string().to_uppercase();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|a| a.starts_with("ACS3-"));
    let mut params = merge_parameters(&uri, &headers, &body);
    if authorization.is_some()
        && let Ok(params) = params.as_mut()
    {
        // The header signature carries the action in x-acs-action, and its clients expect JSON.
        if let Some(action) = headers.get("x-acs-action").and_then(|v| v.to_str().ok()) {
            params.insert_if_absent("Action", action);
        }
        params.insert_if_absent("Format", "JSON");
    }
    let header_signed = authorization.map(|authorization| auth::HeaderSigned {
        method: method.as_str(),
        authorization,
        headers: &headers,
        query: uri.query(),
        body: &body,
    });
    let format = params
        .as_ref()
        .ok()
        .map_or(Some(Format::Xml), |p| Format::from_param(p.get("Format")));
    let action_name = params
        .as_ref()
        .ok()
        .and_then(|p| p.get("Action"))
        .unwrap_or_default()
        .to_string();
    let mut account_id = String::new();
    let mut write = false;

    let outcome = match (params.as_ref(), format) {
        (Err(e), _) => Err(e.clone()),
        (Ok(_), None) => Err(error::ILLEGAL_FORMAT),
        (Ok(params), Some(_)) => {
            let outcome = serve(
                &shared,
                method.as_str(),
                params,
                header_signed.as_ref(),
                &mut account_id,
            )
            .await;
            write = outcome
                .as_ref()
                .is_ok_and(|(action, _)| actions::is_write(action));
            outcome
        }
    };
    let format = format.unwrap_or(Format::Xml);
    let (status, text, code, action) = match outcome {
        Ok((action, mut body)) => {
            body.insert("RequestId".into(), Value::String(request_id.clone()));
            (
                200,
                render::success_body(format, action, &body),
                "OK".to_string(),
                action.to_string(),
            )
        }
        Err(e) => (
            e.status,
            render::error_body(format, &request_id, &e),
            e.code.to_string(),
            action_name,
        ),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = %request_id,
        account = %account_id,
        action = %action,
        code = %code,
        status,
        latency_ms = format_args!("{latency_ms:.3}"),
        "call"
    );
    let record = CallRecord {
        sequence: 0,
        time: clock::iso8601(clock::now_ms()),
        arrived_ms,
        account: account_id,
        action,
        parameters: params.as_ref().map(logged_parameters).unwrap_or_default(),
        code,
        http_status: status,
        latency_ms,
        write,
    };
    shared.calls.lock().push(record);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        text,
    )
        .into_response()
}

/// Authenticates, applies faults and runs the action; returns the canonical action name and its body.
async fn serve(
    shared: &Arc<Shared>,
    method: &str,
    params: &Params,
    header_signed: Option<&auth::HeaderSigned<'_>>,
    account_id: &mut String,
) -> Result<(&'static str, actions::Response), ApiError> {
    let (accounts, nonces, tolerance) = (&shared.accounts, &shared.nonces, shared.tolerance_ms);
    let account = match header_signed {
        Some(request) => auth::authenticate_header_signed(request, accounts, nonces, tolerance)?,
        None => auth::authenticate(method, params, accounts, nonces, tolerance)?,
    }
    .clone();
    *account_id = account.account_id.clone();
    let action = params.required("Action")?;
    let action = actions::canonical_action(action).ok_or(error::UNSUPPORTED_ACTION)?;
    let decision = shared.faults.lock().decide(
        clock::now_ms(),
        &account.account_id,
        action,
        actions::rate_family(action),
    );
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if let Some(fault) = decision.error {
        return Err(fault);
    }
    let result = if shared.durable.is_some() && actions::is_write(action) {
        // Saving fsyncs; keep that off the async workers.
        let shared = Arc::clone(shared);
        let params = params.clone();
        tokio::task::spawn_blocking(move || shared.execute(&account, action, &params))
            .await
            .unwrap_or(Err(error::INTERNAL_FAILURE))
    } else {
        shared.execute(&account, action, params)
    };
    if let Some(hang) = decision.hang {
        shared.calls.lock().count_hang(action);
        tokio::time::sleep(hang).await;
    }
    result.map(|body| (action, body))
}
