//! `POST /api/v1/revoke` (RFC 7009). Possession is enough: whoever finds a
//! leaked token can kill it. Always 200, whatever the token was. Revoking
//! what is already revoked writes nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{TimeZone, Utc};

use super::extractors::{ClientInfo, RawBody};
use super::introspection::token_from_body;
use crate::services::api_keys;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::revocation_events::RevocationEvent;
use crate::tokens::{sha256_hex, TokenKind};
use crate::Result;

/// Opaque refresh tokens are 43 base64url characters; nothing else is looked up.
const REFRESH_TOKEN_CHARS: usize = 43;

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
    client: ClientInfo,
) -> Result<HttpResponse> {
    // Always 200 (RFC 7009 §2.2): a body we cannot read names no token.
    let token = token_from_body(&req, &body.0)
        .unwrap_or_default()
        .into_owned();
    match state.verifier.verify(&token) {
        Ok(claims) if claims.kind == TokenKind::Private => {
            let audit = AuditEntry {
                actor: "revocation endpoint".to_owned(),
                company_id: claims.company_id,
                action: "api_key.deleted",
                target: Some(claims.jti.to_string()),
                ip: client.ip,
                user_agent: client.user_agent,
                outcome: "success",
                details: None,
            };
            api_keys::revoke(&state, claims.jti, None, audit).await?;
        }
        // Only a token still live here is looked up: an unauthenticated
        // caller cannot make a revoked one cost a write, or even a read.
        Ok(claims) if state.revocation.is_active(&claims) => {
            let expires_at = Utc
                .timestamp_opt(claims.exp, 0)
                .single()
                .unwrap_or_else(Utc::now);
            let event = RevocationEvent::TokenRevoked {
                jti: claims.jti,
                expires_at,
            };
            if state.store.revoke_token(claims.jti, expires_at).await? {
                state.apply_local(vec![event]).await;
            } else {
                // Revoked through another instance, not yet heard of here.
                state.revocation.apply([event]);
            }
        }
        Err(_) if is_refresh_token_shaped(&token) => {
            let access_ttl = chrono::Duration::seconds(state.issuer.access_ttl_seconds());
            if state
                .store
                .revoke_refresh_token(&sha256_hex(&token), access_ttl)
                .await?
            {
                state.apply_local(Vec::new()).await;
            }
        }
        Ok(_) | Err(_) => {}
    }
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .finish())
}

fn is_refresh_token_shaped(token: &str) -> bool {
    token.len() == REFRESH_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
