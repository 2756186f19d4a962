//! Closed value sets of the API, each serialized as its exact wire string.

use serde::{Deserialize, Serialize};

/// Declares wire enums: `Serialize`/`Deserialize` with exact renames and `as_str()`.
macro_rules! wire_enums {
    ($($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? })+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// The exact string the API uses for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

wire_enums! {
    /// A switch written `on` / `off`.
    OnOff { On = "on", Off = "off" }

    /// Listener scheduling algorithm.
    Scheduler { WeightedRoundRobin = "wrr", WeightedLeastConnections = "wlc", RoundRobin = "rr" }

    /// How a sticky-session cookie is handled.
    StickySessionType {
        /// The load balancer inserts the cookie (needs `CookieTimeout`).
        Insert = "insert",
        /// The load balancer learns the backend's cookie (needs `Cookie`).
        Server = "server",
    }

    /// An HTTP status class that counts as healthy.
    HealthCheckHttpCode { Http2xx = "http_2xx", Http3xx = "http_3xx", Http4xx = "http_4xx", Http5xx = "http_5xx" }

    /// Health-check method of a TCP listener.
    HealthCheckType { Tcp = "tcp", Http = "http" }

    /// SynProxy (attack protection) switch of a TCP listener.
    SynProxy { Enable = "enable", Disable = "disable" }

    /// Whether the service address is public or private.
    AddressType { Internet = "internet", Intranet = "intranet" }

    /// Billing method of an internet instance.
    InternetChargeType { PayByBandwidth = "paybybandwidth", PayByTraffic = "paybytraffic" }

    /// Network type of an instance.
    NetworkType { Vpc = "vpc", Classic = "classic" }

    /// Status of a load balancer instance (`locked` is only ever reported, never set).
    LoadBalancerStatus { Active = "active", Inactive = "inactive", Locked = "locked" }

    /// Status of a listener.
    ListenerStatus {
        Starting = "starting",
        Running = "running",
        Configuring = "configuring",
        Stopping = "stopping",
        Stopped = "stopped",
    }

    /// Instance specification.
    LoadBalancerSpec {
        S1Small = "slb.s1.small",
        S2Small = "slb.s2.small",
        S2Medium = "slb.s2.medium",
        S3Small = "slb.s3.small",
        S3Medium = "slb.s3.medium",
        S3Large = "slb.s3.large",
    }

    /// Access-control switch of a listener.
    AccessControlStatus { OpenWhiteList = "open_white_list", Close = "close" }

    /// Role of a server in a master-slave server group.
    MasterSlaveServerType { Master = "Master", Slave = "Slave" }

    /// Target pay type of `ModifyLoadBalancerPayType` (only pay-as-you-go → subscription exists).
    PayType { PrePay = "PrePay" }

    /// Billing cycle of a subscription.
    PricingCycle { Month = "month", Year = "year" }

    /// Health of one backend server.
    ServerHealthStatus { Normal = "normal", Abnormal = "abnormal", Unavailable = "unavailable" }

    /// Listener protocol, as reported by `DescribeLoadBalancerAttribute`.
    ListenerProtocol { Http = "http", Https = "https", Tcp = "tcp", Udp = "udp" }
}

/// `off`, so that `..Default::default()` never switches a feature on by accident.
impl Default for OnOff {
    fn default() -> Self {
        OnOff::Off
    }
}

impl OnOff {
    /// `on` when `enabled`.
    pub const fn from_bool(enabled: bool) -> Self {
        if enabled { Self::On } else { Self::Off }
    }

    /// Whether the switch is `on`.
    pub const fn is_on(self) -> bool {
        matches!(self, Self::On)
    }
}
