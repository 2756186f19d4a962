//! Work in progress (three-controllers engineer): master_slave_server_group controller.
