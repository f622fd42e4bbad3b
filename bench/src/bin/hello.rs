//! The baseline: a hello-world lambda_http function built with the same profile as the
//! real ones. Its figures are the floor the others are compared with.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(r#"{"hello":"world"}"#.into()))
            .map_err(Error::from)
    }))
    .await
}
