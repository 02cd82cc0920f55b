//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod data;
pub mod reference;
