//! The limiter on tokio's paused clock: what goes first, what is shared, and how throttling slows it.

use super::*;
use std::num::NonZeroU32;
use std::time::Duration;

fn limits(per_action: Option<u32>, account: Option<u32>) -> RateLimits {
    RateLimits {
        per_action_qps: per_action.and_then(NonZeroU32::new),
        per_action: BTreeMap::new(),
        account_qps: account.and_then(NonZeroU32::new),
        adaptive: Some(AdaptiveRate::default()),
    }
}

/// Queues one call per `(label, action, priority)`, in that order, while no token is left, and returns
/// the labels in the order the calls were let through.
async fn grant_order(
    limiter: &RateLimiter,
    calls: &[(&'static str, &'static str, Priority)],
) -> Vec<&'static str> {
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for &(label, action, priority) in calls {
        let limiter = limiter.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            limiter.acquire(action, priority).await;
            order.lock().unwrap().push(label);
        }));
        // Each call is queued before the next is made, so arrival order is the list's order.
        tokio::task::yield_now().await;
    }
    for task in tasks {
        assert!(task.await.is_ok());
    }
    order.lock().unwrap().clone()
}

/// Makes `calls` calls at normal priority, one after another: every `every`-th of them (from the first)
/// of `SetRule`, the others of `DescribeRules`.
async fn acquire_mixed(limiter: &RateLimiter, calls: u32, every: u32) {
    for i in 0..calls {
        let action = if i % every == 0 {
            "SetRule"
        } else {
            "DescribeRules"
        };
        limiter.acquire(action, Priority::Normal).await;
    }
}

#[tokio::test(start_paused = true)]
async fn writes_go_before_describes_and_describes_before_background_ones() {
    let limiter = RateLimiter::new(limits(None, Some(1)));
    // The account's one token of burst.
    limiter
        .acquire("DescribeLoadBalancers", Priority::Normal)
        .await;
    let order = grant_order(
        &limiter,
        &[
            ("resync-1", "DescribeLoadBalancers", Priority::Background),
            ("resync-2", "DescribeRules", Priority::Background),
            (
                "describe",
                "DescribeLoadBalancerAttribute",
                Priority::Normal,
            ),
            ("create", "CreateLoadBalancer", Priority::High),
            ("set", "SetRule", Priority::High),
        ],
    )
    .await;
    assert_eq!(order, ["create", "set", "describe", "resync-1", "resync-2"]);
}

#[tokio::test(start_paused = true)]
async fn priority_orders_the_waiters_of_one_action() {
    let limiter = RateLimiter::new(limits(Some(2), None));
    let started = Instant::now();
    for _ in 0..2 {
        limiter.acquire("DescribeRules", Priority::Normal).await;
    }
    let order = grant_order(
        &limiter,
        &[
            ("background", "DescribeRules", Priority::Background),
            ("normal", "DescribeRules", Priority::Normal),
            ("high", "DescribeRules", Priority::High),
        ],
    )
    .await;
    assert_eq!(order, ["high", "normal", "background"]);
    // Two per second after the burst of two.
    assert_eq!(started.elapsed(), Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn the_describes_of_a_background_scope_are_background() {
    assert_eq!(Priority::of("DescribeRules"), Priority::Normal);
    assert_eq!(Priority::of("CreateRules"), Priority::High);
    let inside =
        background(async { (Priority::of("DescribeRules"), Priority::of("CreateRules")) }).await;
    assert_eq!(inside, (Priority::Background, Priority::High));
}

#[tokio::test(start_paused = true)]
async fn actions_have_their_own_buckets() {
    let limiter = RateLimiter::new(limits(Some(5), None));
    let started = Instant::now();
    for action in ["DescribeRules", "SetRule", "CreateRules", "DeleteRules"] {
        for _ in 0..5 {
            limiter.acquire(action, Priority::Normal).await;
        }
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    limiter.acquire("SetRule", Priority::Normal).await;
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn the_account_cap_paces_all_actions_together() {
    let limiter = RateLimiter::new(limits(Some(100), Some(10)));
    let started = Instant::now();
    acquire_mixed(&limiter, 30, 2).await;
    // A burst of 10, then 10 per second.
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(limiter.counts(), (30, 0));
}

#[tokio::test(start_paused = true)]
async fn one_limiter_per_account_shared_by_its_clients() {
    let limiters = RateLimiters::new(limits(Some(4), None));
    let hangzhou = limiters.for_account("key-1");
    let beijing = limiters.for_account("key-1");
    let other_account = limiters.for_account("key-2");
    assert!(hangzhou.same_as(&beijing));
    assert!(!hangzhou.same_as(&other_account));

    let started = Instant::now();
    for _ in 0..4 {
        hangzhou.acquire("DescribeRules", Priority::Normal).await;
        other_account
            .acquire("DescribeRules", Priority::Normal)
            .await;
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    // The burst of key-1 is spent by the other region's client.
    beijing.acquire("DescribeRules", Priority::Normal).await;
    assert_eq!(started.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn throttling_slows_the_action_then_it_recovers() {
    let limiter = RateLimiter::new(limits(Some(20), None));
    for _ in 0..20 {
        limiter.acquire("DescribeRules", Priority::Normal).await;
    }
    limiter.throttled("DescribeRules", ThrottleScope::Action);
    assert_eq!(limiter.action_rate("DescribeRules"), Some(10.0));
    assert_eq!(limiter.action_rate("SetRule"), Some(20.0));
    assert_eq!(limiter.account_rate(), None);
    // The bucket was emptied: the next call waits a token at the lowered rate.
    let started = Instant::now();
    limiter.acquire("DescribeRules", Priority::Normal).await;
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(limiter.action_rate("DescribeRules"), Some(20.0));
    assert_eq!(limiter.counts(), (21, 1));
}

#[tokio::test(start_paused = true)]
async fn unknown_throttling_also_caps_the_account_below_what_it_achieved() {
    let limiter = RateLimiter::new(limits(None, None));
    acquire_mixed(&limiter, 30, 3).await;
    assert_eq!(
        ThrottleScope::of_code("Throttling"),
        Some(ThrottleScope::ActionAndAccount)
    );
    assert_eq!(
        ThrottleScope::of_code("Throttling.User"),
        Some(ThrottleScope::Action)
    );
    assert_eq!(ThrottleScope::of_code("ServiceUnavailable"), None);
    limiter.throttled("SetRule", ThrottleScope::ActionAndAccount);
    assert_eq!(limiter.account_rate(), Some(15.0));
    assert_eq!(limiter.action_rate("SetRule"), Some(5.0));
    assert_eq!(limiter.action_rate("DescribeRules"), None);
}

#[tokio::test(start_paused = true)]
async fn fixed_limits_ignore_throttling() {
    let mut fixed = limits(Some(20), None);
    fixed.adaptive = None;
    let limiter = RateLimiter::new(fixed);
    limiter.throttled("DescribeRules", ThrottleScope::ActionAndAccount);
    assert_eq!(limiter.action_rate("DescribeRules"), Some(20.0));
    assert_eq!(limiter.counts(), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiter_leaves_the_queue() {
    let limiter = RateLimiter::new(limits(Some(1), None));
    limiter.acquire("SetRule", Priority::High).await;
    let waiting = tokio::time::timeout(
        Duration::from_millis(10),
        limiter.acquire("SetRule", Priority::High),
    )
    .await;
    assert!(waiting.is_err());
    assert!(limiter.lock().waiters.is_empty());
    let started = Instant::now();
    limiter.acquire("SetRule", Priority::Normal).await;
    assert_eq!(started.elapsed(), Duration::from_millis(990));
}
