use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{AccessState, Snapshot, ENDED_KEY_MARKER_SECONDS};
use crate::clock::Clock;
use crate::domain::{AccessEvent, ActiveKey, Role, ScopeSetId};
use crate::tokens::{Claims, TokenKind};

const LEEWAY_SECONDS: i64 = 30;

fn state(clock: &Clock) -> AccessState {
    AccessState::new(
        Snapshot::default(),
        clock.clone(),
        Duration::seconds(5),
        Duration::seconds(LEEWAY_SECONDS),
    )
}

fn claims(clock: &Clock, kind: TokenKind, sub: Uuid, company_id: Option<Uuid>) -> Claims {
    let now = clock.unix_seconds();
    Claims {
        iss: "https://issuer".to_owned(),
        sub,
        aud: "audience".to_owned(),
        iat: now,
        nbf: now,
        exp: now + 900,
        jti: clock.new_v7(),
        kind,
        company_id,
        scope: None,
    }
}

fn created(key_id: Uuid) -> AccessEvent {
    AccessEvent::KeyCreated {
        key_id,
        company_id: Uuid::now_v7(),
        user_id: Uuid::now_v7(),
        expires_at: Utc::now() + Duration::days(365),
        digest: None,
        scopes: None,
    }
}

/// An API key of `user` in `company`, created and with its membership.
fn api_key(clock: &Clock, state: &AccessState, user: Uuid, company: Uuid) -> Claims {
    let key = claims(clock, TokenKind::ApiKey, user, Some(company));
    state.apply([
        AccessEvent::MembershipChanged {
            user_id: user,
            company_id: company,
            role: Some(Role::Member),
        },
        AccessEvent::KeyCreated {
            key_id: key.jti,
            company_id: company,
            user_id: user,
            expires_at: key.expires_at(),
            digest: None,
            scopes: None,
        },
    ]);
    key
}

#[test]
fn a_login_token_is_active_until_revoked() {
    let clock = Clock::system();
    let state = state(&clock);
    let token = claims(&clock, TokenKind::ShortLived, Uuid::now_v7(), None);
    assert!(state.is_active(&token));

    state.apply([AccessEvent::TokenRevoked {
        jti: token.jti,
        expires_at: token.expires_at(),
    }]);

    assert!(!state.is_active(&token));
    assert_eq!(state.revoked_token_count(), 1);
}

#[test]
fn an_api_key_is_active_only_while_listed_for_its_own_company_and_member() {
    let clock = Clock::system();
    let state = state(&clock);
    let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
    let unknown = claims(&clock, TokenKind::ApiKey, user, Some(company));
    assert!(!state.is_active(&unknown), "an unknown key is inactive");

    let key = api_key(&clock, &state, user, company);
    assert!(state.is_active(&key));
    let mut elsewhere = key.clone();
    elsewhere.company_id = Some(Uuid::now_v7());
    assert!(!state.is_active(&elsewhere), "another company");
    let mut someone_else = key.clone();
    someone_else.sub = Uuid::now_v7();
    assert!(!state.is_active(&someone_else), "another user");

    state.apply([AccessEvent::MembershipChanged {
        user_id: user,
        company_id: company,
        role: None,
    }]);
    assert!(!state.is_active(&key), "no longer a member");
}

#[test]
fn a_deleted_or_revoked_key_is_inactive() {
    let clock = Clock::system();
    let state = state(&clock);
    let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
    let deleted = api_key(&clock, &state, user, company);
    let revoked = api_key(&clock, &state, user, company);

    state.apply([
        AccessEvent::KeyDeleted {
            key_id: deleted.jti,
        },
        AccessEvent::KeyRevoked {
            key_id: revoked.jti,
        },
    ]);

    assert!(!state.is_active(&deleted));
    assert!(!state.is_active(&revoked));
    assert_eq!(state.active_key_count(), 0);
}

#[test]
fn a_disabled_user_has_no_active_token_of_either_kind() {
    let clock = Clock::system();
    let state = state(&clock);
    let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
    let login = claims(&clock, TokenKind::ShortLived, user, None);
    let key = api_key(&clock, &state, user, company);

    state.apply([AccessEvent::UserDisabled { user_id: user }]);

    assert!(!state.is_active(&login));
    assert!(!state.is_active(&key));
}

#[test]
fn a_cutoff_ends_tokens_issued_before_it_and_never_moves_back() {
    let clock = Clock::system();
    let state = state(&clock);
    let user = Uuid::now_v7();
    let before = claims(&clock, TokenKind::ShortLived, user, None);
    clock.advance(StdDuration::from_secs(10));
    let cutoff = clock.now();
    state.apply([AccessEvent::UserTokensRevoked {
        user_id: user,
        valid_after: cutoff,
    }]);
    clock.advance(StdDuration::from_secs(10));
    let after = claims(&clock, TokenKind::ShortLived, user, None);

    // An older cut-off read late does not bring the old token back.
    state.apply([AccessEvent::UserTokensRevoked {
        user_id: user,
        valid_after: cutoff - Duration::seconds(60),
    }]);

    assert!(!state.is_active(&before));
    assert!(state.is_active(&after));
}

#[test]
fn memberships_follow_their_latest_event() {
    let clock = Clock::system();
    let state = state(&clock);
    let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
    let changed = |role| AccessEvent::MembershipChanged {
        user_id: user,
        company_id: company,
        role,
    };

    state.apply([changed(Some(Role::Member)), changed(Some(Role::Admin))]);
    assert_eq!(state.role_in(user, company), Some(Role::Admin));

    state.apply([changed(None)]);
    assert_eq!(state.role_in(user, company), None);
}

#[test]
fn the_state_goes_stale_when_it_stops_catching_up() {
    let clock = Clock::system();
    let state = state(&clock);
    assert!(state.is_fresh());

    clock.advance(StdDuration::from_secs(6));
    assert!(!state.is_fresh());
    assert!(state.staleness_ms() >= 6000);

    state.mark_refreshed();
    assert!(state.is_fresh());
}

#[test]
fn pruning_forgets_what_has_expired_anyway_but_keeps_what_is_live() {
    let clock = Clock::system();
    let state = state(&clock);
    let short = claims(&clock, TokenKind::ShortLived, Uuid::now_v7(), None);
    let long_lived = Uuid::now_v7();
    state.apply([
        AccessEvent::TokenRevoked {
            jti: short.jti,
            expires_at: short.expires_at(),
        },
        AccessEvent::TokenRevoked {
            jti: long_lived,
            expires_at: clock.now() + Duration::days(1),
        },
    ]);

    clock.advance(StdDuration::from_secs(900 + LEEWAY_SECONDS as u64 - 5));
    state.prune();
    assert_eq!(state.revoked_token_count(), 2, "still within leeway");

    clock.advance(StdDuration::from_secs(10));
    state.prune();
    assert_eq!(state.revoked_token_count(), 1);
    assert!(!state.is_active(&Claims {
        jti: long_lived,
        ..claims(&clock, TokenKind::ShortLived, Uuid::now_v7(), None)
    }));
}

#[test]
fn an_ended_key_cannot_come_back_while_a_replay_could_bring_its_creation() {
    let clock = Clock::system();
    let state = state(&clock);
    let (deleted, revoked) = (Uuid::now_v7(), Uuid::now_v7());
    state.apply([created(deleted), created(revoked)]);
    state.apply([
        AccessEvent::KeyDeleted { key_id: deleted },
        AccessEvent::KeyRevoked { key_id: revoked },
    ]);

    clock.advance(StdDuration::from_secs(ENDED_KEY_MARKER_SECONDS as u64 - 5));
    state.prune();
    state.apply([created(deleted), created(revoked)]);

    assert_eq!(state.active_key_count(), 0);
    assert_eq!(state.read().ended_keys.len(), 2);
}

#[test]
fn markers_go_once_no_replay_can_need_them_not_when_the_key_would_expire() {
    let clock = Clock::system();
    let state = state(&clock);
    for _ in 0..1000 {
        let key_id = Uuid::now_v7();
        state.apply([created(key_id), AccessEvent::KeyDeleted { key_id }]);
    }
    assert_eq!(state.read().ended_keys.len(), 1000);

    clock.advance(StdDuration::from_secs(ENDED_KEY_MARKER_SECONDS as u64 + 5));
    state.prune();

    assert_eq!(state.read().ended_keys.len(), 0);
    assert_eq!(state.active_key_count(), 0);
}

#[test]
fn clients_are_replaced_whole() {
    let clock = Clock::system();
    let state = state(&clock);
    let hash = crate::tokens::sha256_hex("secret");
    state.set_clients(vec![("a".to_owned(), hash.clone())]);
    assert!(state.client_matches("a", "secret"));

    state.set_clients(vec![("b".to_owned(), hash)]);

    assert!(!state.client_matches("a", "secret"));
    assert!(state.client_matches("b", "secret"));
}

#[test]
fn a_reload_read_before_a_deletion_does_not_bring_the_key_back() {
    let clock = Clock::system();
    let state = state(&clock);
    let (user, company) = (Uuid::now_v7(), Uuid::now_v7());
    let key = api_key(&clock, &state, user, company);
    // The snapshot was read while the key still stood...
    let mut snapshot = Snapshot {
        memberships: vec![(user, company, Role::Member)],
        ..Snapshot::default()
    };
    snapshot.active_keys.entries.insert(
        key.jti,
        ActiveKey {
            company_id: company,
            user_id: user,
            expires_at: key.exp,
            digest: None,
            scopes: ScopeSetId::UNRESTRICTED,
        },
    );
    // ...then this instance deleted it, before the snapshot went in.
    state.apply([AccessEvent::KeyDeleted { key_id: key.jti }]);

    state.reload(snapshot);

    assert!(!state.is_active(&key));
    assert_eq!(state.active_key_count(), 0);
}
