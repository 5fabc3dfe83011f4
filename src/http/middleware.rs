//! The one middleware every request of the main server passes through. It
//! runs, in order: the request id and the client's address, the head's
//! limits (431), the refusal of encoded bodies (415), the optional trailing
//! slash, then the handler, then the security headers, the `X-Request-Id`
//! echo, the log line and the request metrics. Each step is its own module;
//! they share one layer because every `from_fn` layer costs each request
//! two boxed futures and a reference count, and five of them showed in the
//! introspection benchmark.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use super::request_id::RequestRecord;
use super::{content_encoding, request_limits, security_headers, trailing_slash};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn every_request(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let state = state.as_ref().map(|data| data.get_ref());
    let record = RequestRecord::begin(&req, state);
    let refusal = if state.is_some_and(|s| request_limits::head_too_large(&req, &s.settings.server))
    {
        Some(ApiError::HeadersTooLarge)
    } else if content_encoding::body_is_encoded(&req) {
        Some(ApiError::UnsupportedMediaType)
    } else {
        None
    };
    let mut response = match refusal {
        Some(error) => req
            .into_response(error.into_response())
            .map_into_right_body(),
        None => {
            trailing_slash::trim_trailing_slash(&mut req);
            // Routing runs when `call` is made: in the span, like the rest.
            let span = record.span().clone();
            let answer = span.in_scope(|| next.call(req));
            answer.instrument(span).await?.map_into_left_body()
        }
    };
    security_headers::apply(response.headers_mut());
    record.finish(&mut response, state);
    Ok(response)
}
