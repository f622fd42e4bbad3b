//! The local image bucket: an S3-compatible server (s3s, storing objects as files) reached
//! through the real aws-sdk-s3 client, with the access rules the deployed stack has: signed
//! requests (the functions', presigned uploads) may do anything; anonymous ones may only read
//! published images, as the CDN serves them. Unfinished uploads are never readable from outside.

use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};
use std::future::Future;
use std::path::Path;

/// The access key and secret the local stack signs with (Cargo.toml's functions' environment).
pub const ACCESS_KEY: &str = "local";
pub const SECRET_KEY: &str = "local";

/// A client of the local S3 server at `endpoint`, as the functions' own is configured locally
/// (path-style, the local key); `interceptor` sees every call (the tests record IAM actions).
pub fn client(endpoint: &str, interceptor: Option<aws_sdk_s3::config::SharedInterceptor>) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "storefront-local");
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials);
    if let Some(interceptor) = interceptor {
        config = config.interceptor(interceptor);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// Anonymous reads of published images; everything else needs a signature.
struct PublishedImagesOnly {
    prefix: &'static str,
}

#[async_trait::async_trait]
impl S3Access for PublishedImagesOnly {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_some() {
            return Ok(());
        }
        let reading = matches!(cx.s3_op().name(), "GetObject" | "HeadObject");
        let published = matches!(cx.s3_path(), S3Path::Object { key, .. } if key.starts_with(self.prefix));
        if reading && published { Ok(()) } else { Err(s3_error!(AccessDenied, "Signature is required")) }
    }
}

/// Serves the buckets under `root` (one directory each; `bucket` is created) on `listener`
/// until `shutdown` completes. `public_prefix` is the key prefix anyone may read.
pub async fn serve(
    listener: tokio::net::TcpListener,
    root: &Path,
    bucket: &str,
    public_prefix: &'static str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    std::fs::create_dir_all(root.join(bucket))?;
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| format!("S3 storage in {}: {e:?}", root.display()))?;
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    builder.set_access(PublishedImagesOnly { prefix: public_prefix });
    let service = builder.build();
    let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(_) => continue,
            },
            () = &mut shutdown => return Ok(()),
        };
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone()).into_owned();
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
}

/// Sends a presigned request with `body`, as an admin's client would (the local stack's demo
/// pictures, the benchmark's uploads).
pub async fn send(
    presigned: &storefront::store::Presigned,
    body: Vec<u8>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut request = hyper::Request::builder().method(presigned.method.as_str()).uri(presigned.url.as_str());
    for (name, value) in &presigned.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body)))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let answer = client.request(request).await?;
    if !answer.status().is_success() {
        return Err(format!("the upload was answered {}", answer.status()).into());
    }
    Ok(())
}
