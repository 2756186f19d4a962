//! Request and response types of every action, grouped as the reference groups them.

pub mod backend_servers;
pub mod certificates;
pub mod instances;
pub mod listeners;
pub mod rules;
pub mod server_groups;
pub mod tags;

pub use backend_servers::*;
pub use certificates::*;
pub use instances::*;
pub use listeners::*;
pub use rules::*;
pub use server_groups::*;
pub use tags::*;
