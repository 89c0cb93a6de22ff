//! Black-box tests of the real `truce` binary: init, serve on an ephemeral loopback port,
//! submit, verify, mirror, bad input, crashes.

mod access;
mod bad_input;
mod compliance;
mod corpus;
mod crash;
mod deconfliction;
mod demo;
mod hardening;
mod lifecycle;
mod membership;
mod mirror;
mod offline;
mod security;
mod simulate;
mod store;
mod tamper;
mod util;
mod witness;
