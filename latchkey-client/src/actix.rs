//! actix-web: the [`Protect`] middleware and the [`Caller`] extractor.
//!
//! `latchkey.protect(policy)` wraps a route, resource or scope: every request
//! must carry a token valid by that policy, reach every company its path
//! names, and hold the scope the route requires; the handler then takes the
//! [`Caller`]. A handler taking `Caller` on a route without `Protect` checks
//! the request itself, by the default policy of the [`Latchkey`] in the app
//! data.

use std::borrow::Cow;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use pin_project_lite::pin_project;

use crate::caller::{Caller, Scopes};
use crate::client::{Latchkey, Policy};
use crate::halt::Halt;
use crate::rejection::Rejection;

impl Latchkey {
    /// Middleware checking every request by `policy` (and the company path
    /// rule). Panics, at set-up, on a live policy without client credentials.
    ///
    /// ```no_run
    /// use actix_web::{web, App, HttpServer, Responder};
    /// use latchkey_client::{Caller, Latchkey, Policy};
    ///
    /// async fn list(caller: Caller) -> impl Responder {
    ///     format!("datasets of {:?}", caller.company_id)
    /// }
    ///
    /// async fn create(caller: Caller) -> impl Responder {
    ///     format!("created for {}", caller.subject)
    /// }
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let latchkey = Latchkey::builder("http://127.0.0.1:8080")
    ///     .client_credentials("my-service", "its-secret")
    ///     .build()
    ///     .expect("valid settings");
    /// HttpServer::new(move || {
    ///     App::new().service(
    ///         web::resource("/api/v1/companies/{company_id}/datasets/")
    ///             .route(web::get().to(list).wrap(latchkey.protect(Policy::Offline)))
    ///             .route(web::post().to(create).wrap(
    ///                 latchkey.protect(Policy::Live).require_scope("datasets:write"),
    ///             )),
    ///     )
    /// })
    /// .bind(("127.0.0.1", 8000))?
    /// .run()
    /// .await
    /// # }
    /// ```
    pub fn protect(&self, policy: Policy) -> Protect {
        self.assert_supports(policy);
        Protect {
            latchkey: self.clone(),
            policy,
            scope: None,
        }
    }
}

/// The middleware [`Latchkey::protect`] builds.
#[derive(Clone)]
pub struct Protect {
    latchkey: Latchkey,
    policy: Policy,
    scope: Option<Cow<'static, str>>,
}

impl Protect {
    /// Refuses, with 403 `insufficient_scope`, a key whose scopes lack
    /// `scope`. Panics, at set-up, on a string that is not one scope.
    pub fn require_scope(mut self, scope: impl Into<Cow<'static, str>>) -> Self {
        let scope = scope.into();
        assert!(
            Scopes::parse(&scope).is_ok_and(|s| s.iter().count() == 1),
            "latchkey-client: {scope:?} is not a single scope"
        );
        self.scope = Some(scope);
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Protect
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ProtectService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ProtectService {
            service: Rc::new(service),
            protect: Rc::new(self.clone()),
        }))
    }
}

pub struct ProtectService<S> {
    service: Rc<S>,
    protect: Rc<Protect>,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ProtectService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ProtectFuture<S, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let protect = &self.protect;
        let checked = check_now(
            &protect.latchkey,
            req.request(),
            protect.policy,
            protect.scope.as_deref(),
        );
        let state = match checked {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
                State::Passed {
                    call: self.service.call(req),
                }
            }
            Err(Halt::Refused(rejection)) => State::Refused {
                response: Some(refuse(req, &rejection)),
            },
            Err(Halt::Wait) => {
                let service = self.service.clone();
                let protect = self.protect.clone();
                State::Waiting {
                    check: Box::pin(async move {
                        let checked = check(
                            &protect.latchkey,
                            req.request(),
                            protect.policy,
                            protect.scope.as_deref(),
                        )
                        .await;
                        match checked {
                            Ok(caller) => {
                                req.extensions_mut().insert(caller);
                                Ok(service.call(req).await?.map_into_left_body())
                            }
                            Err(rejection) => Ok(refuse(req, &rejection)),
                        }
                    }),
                }
            }
        };
        ProtectFuture { state }
    }
}

fn refuse<B>(req: ServiceRequest, rejection: &Rejection) -> ServiceResponse<EitherBody<B>> {
    req.into_response(rejection.error_response())
        .map_into_right_body()
}

pin_project! {
    /// What [`ProtectService`] answers with: the route's own future when the
    /// check passed from the caches, no allocation of its own (the usual
    /// request); a refusal; or, when latchkey must be asked, the whole check
    /// boxed.
    pub struct ProtectFuture<S, B>
    where
        S: Service<ServiceRequest>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<S, B>
    where
        S: Service<ServiceRequest>,
    {
        Passed { #[pin] call: S::Future },
        Refused { response: Option<ServiceResponse<EitherBody<B>>> },
        Waiting { check: LocalBoxFuture<Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> },
    }
}

impl<S, B> Future for ProtectFuture<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProjection::Passed { call } => call
                .poll(cx)
                .map(|answer| answer.map(ServiceResponse::map_into_left_body)),
            // Polled again after it answered: a caller's mistake (actix
            // never does it), answered with an internal error here.
            StateProjection::Refused { response } => Poll::Ready(
                response
                    .take()
                    .ok_or_else(|| actix_web::error::ErrorInternalServerError("polled again")),
            ),
            StateProjection::Waiting { check } => check.as_mut().poll(cx),
        }
    }
}

/// The request's `Authorization` header, refused when there are two: a
/// proxy in front may have judged the other one (latchkey refuses them too).
fn authorization(req: &HttpRequest) -> Result<Option<&[u8]>, Rejection> {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    let authorization = headers.next().map(|v| v.as_bytes());
    if headers.next().is_some() {
        return Err(Rejection::InvalidToken);
    }
    Ok(authorization)
}

/// The request target: path and query, as sent.
fn target(req: &HttpRequest) -> &str {
    req.uri()
        .path_and_query()
        .map_or(req.path(), |p| p.as_str())
}

async fn check(
    latchkey: &Latchkey,
    req: &HttpRequest,
    policy: Policy,
    scope: Option<&str>,
) -> Result<Caller, Rejection> {
    latchkey
        .check_request(authorization(req)?, target(req), policy, scope)
        .await
}

fn check_now(
    latchkey: &Latchkey,
    req: &HttpRequest,
    policy: Policy,
    scope: Option<&str>,
) -> Result<Caller, Halt> {
    latchkey.check_request_now(authorization(req)?, target(req), policy, scope)
}

/// The caller, as [`Protect`] checked it; on a route without `Protect`,
/// checked here by the default policy of the `Latchkey` found in the app data
/// (as `Latchkey` or `web::Data<Latchkey>`).
impl FromRequest for Caller {
    type Error = Rejection;
    type Future = CallerFuture;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ready = |answer| CallerFuture(Extraction::Ready(Some(answer)));
        if let Some(caller) = req.extensions().get::<Caller>() {
            return ready(Ok(caller.clone()));
        }
        let latchkey = req
            .app_data::<Latchkey>()
            .or_else(|| req.app_data::<web::Data<Latchkey>>().map(|d| d.get_ref()));
        let Some(latchkey) = latchkey else {
            tracing::error!(
                "Caller extracted on a route without Protect and no Latchkey in the app data"
            );
            return ready(Err(Rejection::Unavailable));
        };
        let policy = latchkey.default_policy();
        match check_now(latchkey, req, policy, None) {
            Ok(caller) => ready(Ok(caller)),
            Err(Halt::Refused(rejection)) => ready(Err(rejection)),
            Err(Halt::Wait) => {
                let (latchkey, req) = (latchkey.clone(), req.clone());
                CallerFuture(Extraction::Checking(Box::pin(async move {
                    check(&latchkey, &req, policy, None).await
                })))
            }
        }
    }
}

/// What extracting a [`Caller`] waits on: nothing when [`Protect`] has
/// checked the request already, or the caches answer (no allocation on
/// those, the usual, paths); else the check itself.
pub struct CallerFuture(Extraction);

enum Extraction {
    Ready(Option<Result<Caller, Rejection>>),
    Checking(LocalBoxFuture<Result<Caller, Rejection>>),
}

impl Future for CallerFuture {
    type Output = Result<Caller, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            // Polled again after it answered: a caller's mistake, refused.
            Extraction::Ready(answer) => {
                Poll::Ready(answer.take().unwrap_or(Err(Rejection::Unavailable)))
            }
            Extraction::Checking(check) => check.as_mut().poll(cx),
        }
    }
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("application/json");
        if let Some(challenge) = self.www_authenticate() {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        response.body(self.body())
    }
}
