//! The verified cache: tokens whose signature and claims passed, kept in a
//! fixed table of slots, each token in the slot its key picks.
//!
//! Not moka, by measurement (`benches/run downstream`): every hit is one
//! request, and moka's bookkeeping per read (a read log drained into LRU
//! deques, epoch pins, a chained table) cost the offline policy more time
//! than the rest of its check. Here a lookup is one lock and one pointer. A
//! token whose slot another takes is verified again when it comes back: one
//! signature check. Nobody can aim a token at a slot, since keys are
//! secret-keyed hashes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::offline::Verified;
use crate::token::TokenKey;

/// The most tokens a verified cache may hold (36 MB); `build` refuses more.
pub const MAX_CAPACITY: u64 = 1_000_000;

/// Tokens a bucket holds: birthdays make a slot per bucket thrash (1,000
/// tokens in 10,000 single slots collide ~10% of the time), four rarely do.
const WAYS: usize = 4;

type Bucket = [Option<(TokenKey, Arc<Verified>)>; WAYS];

pub(crate) struct VerifiedCache {
    /// Allocated up front: 36 bytes a token (360 KB for the default 10,000).
    buckets: Box<[Mutex<Bucket>]>,
    ttl_seconds: i64,
}

impl VerifiedCache {
    /// Room for `capacity` tokens (held to [`MAX_CAPACITY`]), each trusted
    /// for at most `ttl`, counted in whole seconds, rounded up. A zero
    /// capacity or TTL keeps nothing.
    pub fn new(capacity: u64, ttl: Duration) -> VerifiedCache {
        let capacity = if ttl.is_zero() { 0 } else { capacity };
        // At most a million, so the cast cannot truncate.
        let buckets = (capacity.min(MAX_CAPACITY) as usize).div_ceil(WAYS);
        let ttl_seconds = ttl
            .as_secs()
            .saturating_add(u64::from(ttl.subsec_nanos() > 0));
        VerifiedCache {
            buckets: (0..buckets)
                .map(|_| Mutex::new(Bucket::default()))
                .collect(),
            ttl_seconds: i64::try_from(ttl_seconds).unwrap_or(i64::MAX),
        }
    }

    /// The token verified under `key` at most the TTL before `now` (Unix
    /// seconds), if its bucket still holds it. One verified "after" `now`
    /// (the clock went back) is not trusted.
    pub fn get(&self, key: TokenKey, now: i64) -> Option<Arc<Verified>> {
        let bucket = lock(self.bucket(key)?);
        bucket
            .iter()
            .flatten()
            .find(|(held, _)| *held == key)
            .map(|(_, verified)| verified)
            .filter(|verified| {
                let age = now.saturating_sub(verified.verified_at);
                (0..=self.ttl_seconds).contains(&age)
            })
            .cloned()
    }

    /// Keeps `verified` in its bucket: in its key's place, else an empty
    /// one, else that of the bucket's oldest.
    pub fn insert(&self, verified: Arc<Verified>) {
        let key = verified.key;
        let Some(bucket) = self.bucket(key) else {
            return;
        };
        let mut bucket = lock(bucket);
        let place = bucket
            .iter()
            .position(|entry| entry.as_ref().is_some_and(|(held, _)| *held == key))
            .or_else(|| bucket.iter().position(Option::is_none))
            .or_else(|| {
                (0..WAYS).min_by_key(|&way| bucket[way].as_ref().map(|(_, v)| v.verified_at))
            })
            .unwrap_or(0);
        bucket[place] = Some((key, verified));
    }

    pub fn invalidate(&self, key: TokenKey) {
        if let Some(bucket) = self.bucket(key) {
            for entry in lock(bucket).iter_mut() {
                if entry.as_ref().is_some_and(|(held, _)| *held == key) {
                    *entry = None;
                }
            }
        }
    }

    fn bucket(&self, key: TokenKey) -> Option<&Mutex<Bucket>> {
        // 64 of the key's bits, scaled to the table: no division.
        let index = (u128::from(key.bits()) * self.buckets.len() as u128) >> 64;
        self.buckets.get(usize::try_from(index).ok()?)
    }
}

/// A bucket's lock; one poisoned by a panic elsewhere still holds whole
/// entries, so they are used.
fn lock<T>(bucket: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    bucket
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenKeys;

    fn verified(keys: &TokenKeys, n: usize, at: i64) -> Arc<Verified> {
        let token = format!("h.p.{n}");
        Arc::new(Verified::for_test(keys.token(token.as_bytes()).key(), at))
    }

    #[test]
    fn a_token_is_found_by_its_key_until_its_ttl_or_invalidation() {
        let keys = TokenKeys::new().unwrap();
        let cache = VerifiedCache::new(100, Duration::from_secs(60));
        let (one, two) = (verified(&keys, 1, 1000), verified(&keys, 2, 1000));
        cache.insert(one.clone());
        assert!(cache
            .get(one.key, 1060)
            .is_some_and(|v| Arc::ptr_eq(&v, &one)));
        assert!(cache.get(one.key, 1061).is_none(), "past its TTL");
        assert!(cache.get(two.key, 1000).is_none(), "never inserted");
        cache.invalidate(two.key);
        assert!(
            cache.get(one.key, 1000).is_some(),
            "another key's invalidation"
        );
        cache.invalidate(one.key);
        assert!(cache.get(one.key, 1000).is_none());
    }

    #[test]
    fn a_huge_capacity_is_held_to_the_maximum() {
        let cache = VerifiedCache::new(u64::MAX, Duration::MAX);
        assert_eq!(cache.buckets.len() as u64, MAX_CAPACITY / WAYS as u64);
    }

    #[test]
    fn a_ttl_counts_whole_seconds_rounded_up_and_zero_keeps_nothing() {
        let keys = TokenKeys::new().unwrap();
        let one = verified(&keys, 1, 1000);
        let half = VerifiedCache::new(100, Duration::from_millis(500));
        half.insert(one.clone());
        assert!(half.get(one.key, 1001).is_some());
        assert!(half.get(one.key, 1002).is_none());
        let zero = VerifiedCache::new(100, Duration::ZERO);
        zero.insert(one.clone());
        assert!(zero.get(one.key, 1000).is_none());
    }

    #[test]
    fn a_token_verified_after_now_is_not_trusted() {
        let keys = TokenKeys::new().unwrap();
        let cache = VerifiedCache::new(100, Duration::from_secs(600));
        let one = verified(&keys, 1, 1000);
        cache.insert(one.clone());
        assert!(cache.get(one.key, 999).is_none(), "the clock went back");
    }

    #[test]
    fn a_cache_of_no_capacity_holds_nothing() {
        let keys = TokenKeys::new().unwrap();
        let cache = VerifiedCache::new(0, Duration::from_secs(60));
        let one = verified(&keys, 1, 0);
        cache.insert(one.clone());
        assert!(cache.get(one.key, 0).is_none());
        cache.invalidate(one.key);
    }

    #[test]
    fn a_full_bucket_gives_up_its_oldest() {
        let keys = TokenKeys::new().unwrap();
        // One bucket: every token shares it.
        let cache = VerifiedCache::new(WAYS as u64, Duration::from_secs(600));
        let tokens: Vec<_> = (0..=WAYS)
            .map(|n| verified(&keys, n, 100 + n as i64))
            .collect();
        for token in &tokens {
            cache.insert(token.clone());
        }
        assert!(cache.get(tokens[0].key, 200).is_none(), "the oldest went");
        for token in &tokens[1..] {
            assert!(cache.get(token.key, 200).is_some());
        }
        // Inserting a token again takes its own place, even with a place
        // free before it, and no other's.
        cache.invalidate(tokens[1].key);
        cache.insert(tokens[2].clone());
        let held = lock(&cache.buckets[0]);
        let copies = held
            .iter()
            .flatten()
            .filter(|(key, _)| *key == tokens[2].key);
        assert_eq!(copies.count(), 1);
        drop(held);
        assert!(tokens[2..].iter().all(|t| cache.get(t.key, 200).is_some()));
    }

    #[test]
    fn tokens_well_under_capacity_all_stay() {
        let keys = TokenKeys::new().unwrap();
        let cache = VerifiedCache::new(10_000, Duration::from_secs(600));
        let tokens: Vec<_> = (0..100).map(|n| verified(&keys, n, 0)).collect();
        for token in &tokens {
            cache.insert(token.clone());
        }
        assert!(tokens.iter().all(|t| cache.get(t.key, 0).is_some()));
    }
}
