//! SlbListener controller (in progress).
