//! The local stack's parts, shared by `storefront-local` (`make run`, `make db`) and the
//! benchmark: a Lambda Runtime API, an API Gateway front, and the functions run behind it.

pub mod functions;
pub mod gateway;
pub mod runtime;
