//! Listeners of the four protocols (create / set / describe), their life cycle (start / stop / delete) and
//! their access control (white list).
//!
//! The Create and Set requests share groups of parameters ([`XForwardedFor`], [`StickySession`],
//! [`HttpHealthCheck`], [`HealthCheckTiming`], [`ServerGroupIds`], [`ServerGroupSwitches`]); each group is
//! flattened into the request's parameters and validates its own rules.
//!
//! The code is split by concern: the shared parameter groups (`params`), HTTP and HTTPS (`http`), TCP and
//! UDP (`tcp_udp`), describing and starting / stopping / deleting (`state`), and access control
//! (`access_control`). Everything is re-exported here.

use crate::check::{self, Check};

/// The identity of a listener: instance and front-end port.
fn listener(load_balancer_id: &str, listener_port: u16) -> Check {
    check::required("LoadBalancerId", load_balancer_id)?;
    check::port("ListenerPort", listener_port)
}

/// Declares a request that addresses one listener by instance and port.
macro_rules! listener_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            pub load_balancer_id: String,
            pub listener_port: u16,
        }

        impl Validate for $name {
            fn validate(&self) -> Result<(), ValidationError> {
                listener(&self.load_balancer_id, self.listener_port)
            }
        }
    };
}

mod access_control;
mod http;
mod params;
mod state;
mod tcp_udp;

pub use access_control::*;
pub use http::*;
pub use params::*;
pub use state::*;
pub use tcp_udp::*;
