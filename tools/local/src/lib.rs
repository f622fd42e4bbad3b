//! The local stack's parts, shared by `storefront-local` (`make run`, `make db`) and the
//! benchmark (and the tests' image bucket): a Lambda Runtime API, an API Gateway front, the
//! functions run behind it, and an S3-compatible server.

pub mod functions;
pub mod gateway;
pub mod runtime;
pub mod s3;
