//! # gochan-http: request-scoped contexts across services
//!
//! Work in progress (issue 7). Today this crate carries the part every transport needs:
//! the gRPC `grpc-timeout` header ([`grpc_timeout`]) and the bridge between it and a
//! [`gochan::context::Context`] deadline, so a chain of services shares one time budget:
//! the server derives its request context from the incoming header, and an outgoing call
//! sends the *remaining* time of that context downstream.
//!
//! ```
//! use std::time::Duration;
//! use gochan::context;
//! use gochan_http::grpc_timeout;
//!
//! // A server receives "250m" (250 ms) ...
//! let (ctx, _cancel) = grpc_timeout::context_from_header(&context::background(), Some("250m")).unwrap();
//! // ... and forwards what is left of it to the next hop.
//! let header = grpc_timeout::header_from_context(&ctx).unwrap();
//! assert!(grpc_timeout::parse(&header).unwrap() <= Duration::from_millis(250));
//! ```
//!
//! Still to come (see `docs/ROADMAP.md`): a tower `Layer` giving each hyper request a
//! context (client disconnect, response done, request id, client IP), a client helper
//! that aborts calls when the context ends, and seed 004's search server.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

pub mod grpc_timeout;
