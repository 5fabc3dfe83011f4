//! A check that answers at once from what is cached, or says it must wait.

use crate::rejection::Rejection;

/// Why a check done at once (no round trip, no await) did not pass.
#[derive(Debug)]
pub(crate) enum Halt {
    /// The answer is a refusal.
    Refused(Rejection),
    /// The answer needs latchkey to be asked first (keys, introspection or
    /// memberships not cached): the caller runs the waiting check instead.
    Wait,
}

/// What a waiting check makes of the same check done at once: its answer,
/// its refusal, or `None`: go and ask latchkey.
pub(crate) fn answered<T>(now: Result<T, Halt>) -> Result<Option<T>, Rejection> {
    match now {
        Ok(answer) => Ok(Some(answer)),
        Err(Halt::Refused(rejection)) => Err(rejection),
        Err(Halt::Wait) => Ok(None),
    }
}

impl From<Rejection> for Halt {
    fn from(rejection: Rejection) -> Halt {
        Halt::Refused(rejection)
    }
}
