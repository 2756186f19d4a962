//! The SlbRule controller: a forwarding rule on the listener of an SlbListener, sending matching
//! requests to the group of an SlbVServerGroup. Only the target group can change (SetRule).

mod outcome;
mod plan;

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use slb_api::{
    CreateRulesRequest, DeleteRulesRequest, DescribeRulesRequest, NewRule, SetRuleRequest, SlbApi,
};

use self::outcome::{Applied, Before};
use self::plan::{Plan, RemoteRule, locate, non_empty};
use super::events;
use super::master_slave_server_group::may_have_created;
use super::object::ObjectKey;
use super::references::{find_instance, get_referenced, placed_region, referencing};
use super::runtime::{conclude, drive, finalized, spec_controller};
use super::scope;
use super::status::{self, Generation, record_status, report_status};
use super::vserver_group::deletion_policy_in_effect;
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::{DeletionPolicy, SlbListener, SlbRule, SlbRuleStatus, SlbVServerGroup};
use crate::error::{Error, Result};

/// Where the rule goes: the listener's load balancer, port and region, and the target group's ID.
struct Resolved {
    load_balancer_id: String,
    listener_port: u16,
    region: String,
    group_id: String,
}

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbRule>(&ctx);
    let (by_listener, by_group) = (controller.store(), controller.store());
    let controller = controller
        .watches_stream(
            scope::watch::<SlbListener>(&ctx, watcher::Config::default()).touched_objects(),
            move |listener: SlbListener| {
                referencing(&by_listener, &listener, |rule: &SlbRule| {
                    rule.spec.listener_ref.name == listener.name_any()
                })
            },
        )
        .watches_stream(
            scope::watch::<SlbVServerGroup>(&ctx, watcher::Config::default()).touched_objects(),
            move |group: SlbVServerGroup| {
                referencing(&by_group, &group, |rule: &SlbRule| {
                    rule.spec.v_server_group_ref.name == group.name_any()
                })
            },
        );
    drive(controller, reconcile, ctx, shutdown).await;
}

/// Reconciles one SlbRule: the finalizer decides between keeping it in sync and cleaning up.
async fn reconcile(rule: Arc<SlbRule>, ctx: Arc<Context>) -> Result<Action> {
    finalized(rule, &ctx, |event| async {
        match event {
            Finalizer::Apply(rule) => sync(&rule, &ctx).await,
            Finalizer::Cleanup(rule) => cleanup(&rule, &ctx).await,
        }
    })
    .await
}

/// The region of the rule: the one it recorded, else its listener's (see [`placed_region`]).
async fn listener_region(
    ctx: &Context,
    namespace: &str,
    recorded: Option<&String>,
    listener: &SlbListener,
) -> Result<String> {
    let listener_recorded = listener.status.as_ref().and_then(|s| s.region_id.as_ref());
    placed_region(
        ctx,
        namespace,
        recorded.or(listener_recorded),
        &listener.spec.instance_ref.name,
    )
    .await
}

async fn resolve(rule: &SlbRule, ctx: &Context, namespace: &str) -> Result<Resolved> {
    let listener_name = &rule.spec.listener_ref.name;
    let listener: SlbListener =
        get_referenced(ctx, namespace, "SlbListener", listener_name).await?;
    let listener_status = listener.status.clone().unwrap_or_default();
    let not_ready = || Error::ReferenceNotReady {
        kind: "SlbListener",
        name: listener_name.clone(),
    };
    let load_balancer_id = listener_status.load_balancer_id.ok_or_else(not_ready)?;
    let listener_port = listener_status
        .listener_port
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(not_ready)?;
    let group_name = &rule.spec.v_server_group_ref.name;
    let group: SlbVServerGroup =
        get_referenced(ctx, namespace, "SlbVServerGroup", group_name).await?;
    let group_status = group.status.unwrap_or_default();
    let group_id = group_status
        .v_server_group_id
        .ok_or(Error::ReferenceNotReady {
            kind: "SlbVServerGroup",
            name: group_name.clone(),
        })?;
    if group_status.load_balancer_id.as_deref() != Some(load_balancer_id.as_str()) {
        return Err(Error::InvalidSpec(format!(
            "SlbVServerGroup {group_name:?} is on another load balancer than SlbListener {listener_name:?}"
        )));
    }
    Ok(Resolved {
        load_balancer_id,
        listener_port,
        region: listener_region(
            ctx,
            namespace,
            rule.status.as_ref().and_then(|s| s.region_id.as_ref()),
            &listener,
        )
        .await?,
        group_id,
    })
}

async fn sync(rule: &SlbRule, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(rule)?;
    let current = rule.status.clone().unwrap_or_default();
    let resolved = resolve(rule, ctx, &key.namespace).await?;
    let slb = ctx.slb.region(&resolved.region)?;
    let name = key.slb_name(rule.spec.name.as_ref());
    let desired = NewRule {
        rule_name: name.clone(),
        domain: rule.spec.domain.clone(),
        url: rule.spec.url.clone(),
        v_server_group_id: Some(resolved.group_id.clone()),
    };

    // observe: a rule recorded (or being created) on another listener is not looked for here
    let same_listener = current.load_balancer_id.as_deref()
        == Some(resolved.load_balancer_id.as_str())
        && current.listener_port == Some(i32::from(resolved.listener_port));
    let recorded_id = current.rule_id.as_deref().filter(|_| same_listener);
    let pending = current
        .pending_create_name
        .as_deref()
        .filter(|_| same_listener);
    let rules = describe_rules(
        slb.as_ref(),
        &resolved.load_balancer_id,
        resolved.listener_port,
    )
    .await?;
    // plan (no I/O); a rule with our name that is not ours is refused before any call
    let remote = locate(&rules, recorded_id, pending, &name).map_err(|taken| Error::NotOwned {
        what: format!(
            "rule {}, which has the name {name:?} on this listener but was not created by this object",
            taken.id
        ),
    })?;
    let replaced_id = recorded_id.filter(|id| remote.is_none_or(|r| r.id != *id));
    let spec_changed = current.observed_generation != key.generation;
    let plan = plan::plan(desired, remote);

    // apply
    let mut status = current.clone();
    status.load_balancer_id = Some(resolved.load_balancer_id.clone());
    status.region_id = Some(resolved.region.clone());
    status.listener_port = Some(i32::from(resolved.listener_port));
    status.rule_id = remote.map(|r| r.id.clone());
    status.pending_create_name = match remote {
        Some(_) => None,
        None => pending.map(str::to_owned),
    };
    let mut applied = Applied::default();
    let failed = execute(
        ctx,
        rule,
        slb.as_ref(),
        &resolved,
        &mut status,
        &plan,
        &mut applied,
    )
    .await
    .err();

    // outcome (no I/O), then status
    let before = Before {
        load_balancer_id: &resolved.load_balancer_id,
        listener_port: resolved.listener_port,
        spec_changed,
        replaced_id,
    };
    let outcome = outcome::outcome(&plan, &before, &applied, failed.is_some());
    conclude(ctx, rule, status, outcome, failed).await
}

/// Makes the planned calls, recording the ID in the status right after a create, and in `applied`.
async fn execute(
    ctx: &Context,
    rule: &SlbRule,
    slb: &dyn SlbApi,
    resolved: &Resolved,
    status: &mut SlbRuleStatus,
    plan: &Plan,
    applied: &mut Applied,
) -> Result<()> {
    match plan {
        Plan::InSync => Ok(()),
        Plan::Create(new_rule) => {
            create(ctx, rule, slb, resolved, status, new_rule.clone(), applied).await
        }
        Plan::SetGroup { rule_id, group_id } => {
            slb.set_rule(&SetRuleRequest {
                rule_id: rule_id.clone(),
                v_server_group_id: Some(group_id.clone()),
            })
            .await?;
            applied.group_set = true;
            Ok(())
        }
        Plan::Replace {
            old_id,
            create: new_rule,
        } => {
            delete_rule(slb, old_id).await?;
            applied.deleted_id = Some(old_id.clone());
            create(ctx, rule, slb, resolved, status, new_rule.clone(), applied).await
        }
    }
}

async fn describe_rules(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    listener_port: u16,
) -> Result<Vec<RemoteRule>> {
    let described = slb
        .describe_rules(&DescribeRulesRequest {
            load_balancer_id: load_balancer_id.to_owned(),
            listener_port,
        })
        .await?;
    Ok(described
        .rules
        .into_iter()
        .map(|r| RemoteRule {
            id: r.rule_id,
            name: r.rule_name,
            domain: non_empty(r.domain),
            url: non_empty(r.url),
            v_server_group_id: non_empty(r.v_server_group_id),
        })
        .collect())
}

/// Creates the rule and records its ID in the status at once, so it is never created twice.
async fn create(
    ctx: &Context,
    rule: &SlbRule,
    slb: &dyn SlbApi,
    resolved: &Resolved,
    status: &mut SlbRuleStatus,
    new_rule: NewRule,
    applied: &mut Applied,
) -> Result<()> {
    let name = new_rule.rule_name.clone();
    // Written ahead: CreateRules takes no ClientToken, so after one left unanswered the rule with
    // this name is found as ours (see `locate`), never created a second time.
    status.rule_id = None;
    status.pending_create_name = Some(name.clone());
    record_status(ctx, rule, status).await?;
    let request = CreateRulesRequest {
        load_balancer_id: resolved.load_balancer_id.clone(),
        listener_port: resolved.listener_port,
        rule_list: vec![new_rule],
    };
    let created = match slb.create_rules(&request).await {
        Ok(created) => created,
        Err(error) => {
            if !may_have_created(&error) {
                status.pending_create_name = None;
                status::take_back(ctx, rule, status).await?;
            }
            return Err(error.into());
        }
    };
    let id = created
        .rules
        .into_iter()
        .find(|r| r.rule_name == name)
        .map(|r| r.rule_id)
        .unwrap_or_default();
    applied.created_id = Some(id.clone());
    if !id.is_empty() {
        status.rule_id = Some(id.clone());
        status.pending_create_name = None;
    }
    let created = DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
    report_status(ctx, rule, status.clone(), [created], Generation::Pending).await?;
    Ok(())
}

/// Deletes a rule; one already gone (with its listener, say) is fine.
async fn delete_rule(slb: &dyn SlbApi, id: &str) -> Result<bool> {
    match slb
        .delete_rules(&DeleteRulesRequest {
            rule_ids: vec![id.to_owned()],
        })
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Deletes the recorded rule, or the one the create written ahead made, from the listener they were
/// recorded on (never one we did not create, nor one elsewhere), then lets the object go. With Orphan
/// (its deletionPolicy, else its listener's, else the instance's: see
/// [`deletion_policy_in_effect`]) the rule stays.
async fn cleanup(rule: &SlbRule, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(rule)?;
    let status = rule.status.clone().unwrap_or_default();
    let listeners: Api<SlbListener> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let listener = listeners.get_opt(&rule.spec.listener_ref.name).await?;
    let policy = match (rule.spec.deletion_policy, &listener) {
        (Some(own), _) => own,
        (None, Some(listener)) => {
            let instance =
                find_instance(ctx, &key.namespace, &listener.spec.instance_ref.name).await?;
            deletion_policy_in_effect(
                &[listener.spec.deletion_policy],
                instance.as_ref().map(|i| &i.spec),
            )
        }
        // Without its listener the rule's instance is unknown, as if gone.
        (None, None) => deletion_policy_in_effect(&[], None),
    };
    if policy == DeletionPolicy::Orphan {
        if let Some(id) = &status.rule_id {
            events::normal(ctx, rule, "Orphaned", format!("Left rule {id} in place")).await;
        }
        return Ok(Action::await_change());
    }
    let region = match &listener {
        Some(listener) => {
            listener_region(ctx, &key.namespace, status.region_id.as_ref(), listener).await?
        }
        None => status
            .region_id
            .clone()
            .unwrap_or_else(|| ctx.config.default_region.clone()),
    };
    let slb = ctx.slb.region(&region)?;
    let (Some(load_balancer_id), Some(port)) = (
        status.load_balancer_id,
        status.listener_port.and_then(|p| u16::try_from(p).ok()),
    ) else {
        return Ok(Action::await_change());
    };
    if status.rule_id.is_none() && status.pending_create_name.is_none() {
        return Ok(Action::await_change());
    }
    // Only a rule on the listener it was recorded on: the recorded ID, else (the create written
    // ahead may have gone through unanswered) the rule with the pending name.
    let rules = match describe_rules(slb.as_ref(), &load_balancer_id, port).await {
        Ok(rules) => rules,
        Err(Error::Slb(error)) if error.is_not_found() => Vec::new(),
        Err(error) => return Err(error),
    };
    let ours = rules.into_iter().find(|remote| match &status.rule_id {
        Some(id) => remote.id == *id,
        None => status.pending_create_name.as_ref() == Some(&remote.name),
    });
    let Some(RemoteRule { id, .. }) = ours else {
        return Ok(Action::await_change());
    };
    if delete_rule(slb.as_ref(), &id).await? {
        events::normal(ctx, rule, "Deleted", format!("Deleted rule {id}")).await;
    }
    Ok(Action::await_change())
}
