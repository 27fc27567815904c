//! The machinery of sockerr: sandboxed namespaces, sockets whose every call is recorded, and
//! packet capture. It knows no scenario and no expected answer; scenarios live in `suites`.

pub mod capture;
pub mod record;
pub mod sandbox;
pub mod sys;
