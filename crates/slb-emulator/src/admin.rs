//! `/__admin/…`: JSON endpoints for tests, benchmarks and demos (no authentication; bind to loopback).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{EcsInstance, Faults};
use crate::health::{HEALTH_STATES, HealthOverride};
use crate::server::Shared;
use crate::state::LoadBalancer;

type AdminState = State<Arc<Shared>>;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(state))
        .route("/accounts", get(accounts))
        .route("/calls", get(calls).delete(clear_calls))
        .route("/counters", get(counters))
        .route("/ecs-instances", get(ecs).put(replace_ecs).post(add_ecs))
        .route(
            "/health",
            get(health)
                .put(replace_health)
                .post(add_health)
                .delete(clear_health),
        )
        .route("/faults", get(faults).put(replace_faults))
        .route("/reset", post(reset))
        .route(
            "/load-balancers/{id}",
            patch(patch_load_balancer).delete(delete_load_balancer),
        )
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn saved(shared: &Shared, store: &crate::state::Store) -> Response {
    match shared.persist(store) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn state(State(shared): AdminState) -> Response {
    let store = shared.store.lock();
    Json(serde_json::to_value(&*store).unwrap_or(Value::Null)).into_response()
}

async fn accounts(State(shared): AdminState) -> Response {
    let accounts: Vec<Value> = shared
        .accounts
        .iter()
        .map(|a| json!({"account_id": a.account_id, "access_key_id": a.access_key_id}))
        .collect();
    Json(accounts).into_response()
}

#[derive(Deserialize)]
struct CallsQuery {
    #[serde(default)]
    since: u64,
    action: Option<String>,
}

async fn calls(State(shared): AdminState, Query(q): Query<CallsQuery>) -> Response {
    let records = shared.calls.lock().records(q.since, q.action.as_deref());
    Json(json!({ "calls": records })).into_response()
}

async fn clear_calls(State(shared): AdminState) -> Response {
    shared.calls.lock().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn counters(State(shared): AdminState) -> Response {
    Json(shared.calls.lock().counters()).into_response()
}

async fn ecs(State(shared): AdminState) -> Response {
    Json(shared.ecs.read().clone()).into_response()
}

/// `null` turns the inventory check off; a list replaces the inventory.
async fn replace_ecs(
    State(shared): AdminState,
    Json(inventory): Json<Option<Vec<EcsInstance>>>,
) -> Response {
    *shared.ecs.write() = inventory;
    StatusCode::NO_CONTENT.into_response()
}

async fn add_ecs(State(shared): AdminState, Json(instance): Json<EcsInstance>) -> Response {
    let mut inventory = shared.ecs.write();
    let list = inventory.get_or_insert_with(Vec::new);
    list.retain(|i| i.instance_id != instance.instance_id);
    list.push(instance);
    StatusCode::NO_CONTENT.into_response()
}

async fn health(State(shared): AdminState) -> Response {
    Json(shared.health.read().clone()).into_response()
}

/// The first override with an unknown status, as an error response.
fn invalid_health(overrides: &[HealthOverride]) -> Option<Response> {
    overrides
        .iter()
        .find(|o| !HEALTH_STATES.contains(&o.status.as_str()))
        .map(|o| {
            bad_request(format!(
                "status must be one of {HEALTH_STATES:?}, not {:?}",
                o.status
            ))
        })
}

async fn replace_health(
    State(shared): AdminState,
    Json(overrides): Json<Vec<HealthOverride>>,
) -> Response {
    if let Some(response) = invalid_health(&overrides) {
        return response;
    }
    *shared.health.write() = overrides;
    StatusCode::NO_CONTENT.into_response()
}

async fn add_health(State(shared): AdminState, Json(o): Json<HealthOverride>) -> Response {
    if let Some(response) = invalid_health(std::slice::from_ref(&o)) {
        return response;
    }
    shared.health.write().push(o);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_health(State(shared): AdminState) -> Response {
    shared.health.write().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn faults(State(shared): AdminState) -> Response {
    Json(shared.faults.lock().faults().clone()).into_response()
}

async fn replace_faults(State(shared): AdminState, Json(faults): Json<Faults>) -> Response {
    shared.faults.lock().set(faults);
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(shared): AdminState) -> Response {
    match shared.reset() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Changes a load balancer behind the API's back (a console edit), for drift tests. The body is a JSON merge
/// patch over the load balancer as `GET /__admin/state` shows it.
async fn patch_load_balancer(
    State(shared): AdminState,
    Path(id): Path<String>,
    Json(patch): Json<Value>,
) -> Response {
    let mut store = shared.store.lock();
    let Some(account) = store
        .accounts
        .values_mut()
        .find(|a| a.load_balancers.contains_key(&id))
    else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such load balancer"})),
        )
            .into_response();
    };
    let Some(lb) = account.load_balancers.get_mut(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such load balancer"})),
        )
            .into_response();
    };
    let mut value = match serde_json::to_value(&*lb) {
        Ok(v) => v,
        Err(e) => return bad_request(e.to_string()),
    };
    merge_patch(&mut value, &patch);
    match serde_json::from_value::<LoadBalancer>(value) {
        Ok(patched) if patched.id == id => *lb = patched,
        Ok(_) => return bad_request("the id cannot be changed"),
        Err(e) => return bad_request(e.to_string()),
    }
    // The patch may add or drop groups and rules.
    account.reindex();
    saved(&shared, &store)
}

async fn delete_load_balancer(State(shared): AdminState, Path(id): Path<String>) -> Response {
    let mut store = shared.store.lock();
    let removed = store.accounts.values_mut().any(|a| {
        let lb = a.load_balancers.remove(&id);
        if let Some(lb) = &lb {
            a.unindex(lb.child_ids());
        }
        lb.is_some()
    });
    if !removed {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such load balancer"})),
        )
            .into_response();
    }
    saved(&shared, &store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_semantics() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut doc, &json!({"a": null, "b": {"c": 5}, "e": "x"}));
        assert_eq!(doc, json!({"b": {"c": 5, "d": 3}, "e": "x"}));
    }
}
