//! Work in progress (three-controllers engineer): rule controller.
