//! Dates and durations in words, all in UTC: "2026-12-28", "in 30 days",
//! "5 min ago".

use chrono::{DateTime, Utc};

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

pub fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The full instant, for a `title` or `datetime` attribute.
pub fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn machine(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// "1 day", "3 days": a count with its noun agreeing.
pub fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A span rounded to the unit a person would use: days past half a day,
/// else hours, else minutes.
fn span(seconds: i64) -> String {
    if seconds >= DAY / 2 {
        plural((seconds + DAY / 2) / DAY, "day")
    } else if seconds >= HOUR {
        plural(seconds / HOUR, "hour")
    } else {
        plural((seconds / MINUTE).max(1), "minute")
    }
}

/// "in 30 days" ahead of `now`, "3 days ago" behind it.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds >= 0 {
        format!("in {}", span(seconds))
    } else {
        format!("{} ago", span(-seconds))
    }
}

/// When something last happened: "never", "just now", "5 min ago",
/// "yesterday", or the date once it is a month old.
pub fn since(now: DateTime<Utc>, at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at else {
        return "never".to_owned();
    };
    let seconds = (now - at).num_seconds().max(0);
    match seconds {
        s if s < MINUTE => "just now".to_owned(),
        s if s < HOUR => format!("{} min ago", s / MINUTE),
        s if s < DAY => format!("{} ago", plural(s / HOUR, "hour")),
        s if s < 2 * DAY => "yesterday".to_owned(),
        s if s < 30 * DAY => format!("{} days ago", s / DAY),
        _ => date(at),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn relative_rounds_to_days_hours_or_minutes() {
        let later = |s: i64| relative(now(), now() + Duration::seconds(s));
        assert_eq!(later(30 * DAY - 5), "in 30 days");
        assert_eq!(later(DAY), "in 1 day");
        assert_eq!(later(4 * DAY + 10 * HOUR), "in 4 days");
        assert_eq!(later(5 * HOUR), "in 5 hours");
        assert_eq!(later(HOUR), "in 1 hour");
        assert_eq!(later(20), "in 1 minute");
        assert_eq!(later(-27 * DAY), "27 days ago");
    }

    #[test]
    fn since_reads_like_a_person() {
        let ago = |s: i64| since(now(), Some(now() - Duration::seconds(s)));
        assert_eq!(since(now(), None), "never");
        assert_eq!(ago(10), "just now");
        assert_eq!(ago(2 * MINUTE), "2 min ago");
        assert_eq!(ago(HOUR), "1 hour ago");
        assert_eq!(ago(30 * HOUR), "yesterday");
        assert_eq!(ago(3 * DAY), "3 days ago");
        assert_eq!(ago(40 * DAY), "2026-10-19");
        assert_eq!(ago(-60), "just now");
    }
}
