//! The local stack's parts, shared by `storefront-local` (`make run`, `make db`) and the
//! benchmark (and the tests' image bucket): a Lambda Runtime API, an API Gateway front, the
//! functions run behind it, an S3-compatible server, an event bus and the table stream's
//! mapping to `publish-events`.

pub mod bus;
pub mod functions;
pub mod gateway;
pub mod runtime;
pub mod s3;
pub mod schedule;
pub mod stream;
