//! Placeholder: being written (see lib.rs for the layer this module is).
