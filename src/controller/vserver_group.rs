//! Work in progress (three-controllers engineer): vserver_group controller.
