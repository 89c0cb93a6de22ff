//! The library behind the `truce` command: member key files, scenario initialisation, the HTTP
//! client, submission and offline queueing, and verification. The binary (`main.rs`) only
//! parses arguments and calls these.

pub mod audit;
pub mod client;
pub mod copy;
pub mod database;
pub mod deconflict;
pub mod keys;
pub mod mirror;
pub mod replay;
pub mod scenario;
pub mod submit;
pub mod tokens;
pub mod verify;
