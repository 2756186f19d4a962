//! Work in progress (three-controllers engineer): operator_rule cluster tests.
