//! Work in progress (three-controllers engineer): operator_vserver_group cluster tests.
