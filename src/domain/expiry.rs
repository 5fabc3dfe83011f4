use chrono::{DateTime, Duration, DurationRound, Utc};

use super::FieldError;

/// The smallest lifetime a key may be given.
pub const MIN_LIFETIME_SECONDS: i64 = 60;

/// When an API key expires: set once at creation, whole seconds, at least a
/// minute ahead and within the plan's longest lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(DateTime<Utc>);

impl Expiry {
    /// Exactly one of `expires_at` (RFC 3339) or `expires_in` (seconds).
    pub fn parse(
        expires_at: Option<&str>,
        expires_in: Option<i64>,
        now: DateTime<Utc>,
        longest: Duration,
    ) -> Result<Self, FieldError> {
        let (attr, at) = match (expires_at, expires_in) {
            (Some(raw), None) => {
                let at = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
                    FieldError::new(
                        "expires_at",
                        "Enter an RFC 3339 date-time, e.g. 2027-01-31T12:00:00Z.",
                    )
                })?;
                ("expires_at", at.with_timezone(&Utc))
            }
            (None, Some(seconds)) => {
                let at = Duration::try_seconds(seconds)
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| {
                        FieldError::new("expires_in", "The lifetime is out of range.")
                    })?;
                ("expires_in", at)
            }
            _ => {
                return Err(FieldError::new(
                    "expires_at",
                    "Give exactly one of expires_at or expires_in.",
                ))
            }
        };
        let at = at.duration_trunc(Duration::seconds(1)).unwrap_or(at);
        if at < now + Duration::seconds(MIN_LIFETIME_SECONDS) {
            return Err(FieldError::new(
                attr,
                format!("The key must live at least {MIN_LIFETIME_SECONDS} seconds."),
            ));
        }
        if at > now + longest {
            let days = longest.num_days();
            return Err(FieldError::new(
                attr,
                format!("Your plan allows keys to live at most {days} days."),
            ));
        }
        Ok(Expiry(at))
    }

    pub fn at(self) -> DateTime<Utc> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn takes_exactly_one_form() {
        let year = Duration::days(365);
        assert_eq!(
            Expiry::parse(None, None, now(), year).unwrap_err().attr,
            "expires_at"
        );
        assert!(Expiry::parse(Some("2026-02-01T00:00:00Z"), Some(60), now(), year).is_err());
        let at = Expiry::parse(Some("2026-02-01T01:00:00+01:00"), None, now(), year).unwrap();
        assert_eq!(at.at().to_rfc3339(), "2026-02-01T00:00:00+00:00");
        assert_eq!(
            Expiry::parse(None, Some(3600), now(), year).unwrap().at(),
            now() + Duration::hours(1)
        );
    }

    #[test]
    fn bounds_the_lifetime() {
        let year = Duration::days(365);
        assert_eq!(
            Expiry::parse(None, Some(59), now(), year).unwrap_err().attr,
            "expires_in"
        );
        assert!(Expiry::parse(None, Some(60), now(), year).is_ok());
        assert!(Expiry::parse(None, Some(-5), now(), year).is_err());
        assert!(Expiry::parse(None, Some(i64::MAX), now(), year).is_err());
        assert!(Expiry::parse(None, Some(365 * 86_400), now(), year).is_ok());
        assert!(Expiry::parse(None, Some(365 * 86_400 + 1), now(), year).is_err());
        assert_eq!(
            Expiry::parse(Some("yesterday"), None, now(), year)
                .unwrap_err()
                .attr,
            "expires_at"
        );
    }
}
