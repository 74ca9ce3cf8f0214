//! What one delivery attempt's outcome means for the delivery: delivered,
//! tried again later (when), or failed for good.
//!
//! Tried again: a timeout, a connection error, HTTP 5xx and 429. Any other
//! answer that is not 2xx (a redirect, 4xx) fails at once: the receiver said
//! no, and asking again would get the same answer. The wait before attempt
//! n + 1 is "full jitter" (a uniform draw from 0 to min(cap, base · 2^(n-1))):
//! receivers that recover from an outage are not hit by every sender at the
//! same instant. A `Retry-After` the receiver sends (on 429 or 503) is a
//! floor under that wait, bounded by [`MAX_RETRY_AFTER`].

use std::time::Duration;

/// The longest `Retry-After` honoured: a receiver asking for more waits a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts in all, the first included; then the delivery is failed.
    pub max_attempts: u32,
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The ceiling of any wait.
    pub cap: Duration,
}

/// The defaults: 15 attempts, waits drawn below 2 s, 4 s, 8 s, ... up to an
/// hour: a receiver down for up to about four hours still gets every event.
pub const DEFAULT_POLICY: Policy = Policy {
    max_attempts: 15,
    base: Duration::from_secs(2),
    cap: Duration::from_secs(3600),
};

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this HTTP status.
    Answered {
        /// The status code.
        status: u16,
        /// Its `Retry-After`, read.
        retry_after: Option<Duration>,
    },
    /// No answer within the timeout.
    TimedOut,
    /// No connection (refused, reset, DNS, TLS).
    ConnectionFailed,
    /// The target was refused before any request (a private address after
    /// resolution): retrying cannot help.
    Refused,
}

/// What becomes of the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done.
    Delivered,
    /// Pending again, due after this wait.
    RetryAfter(Duration),
    /// Given up.
    Failed,
}

impl Verdict {
    /// The delivery's state after it: `delivered`, `pending` or `failed`.
    pub fn state(self) -> &'static str {
        match self {
            Verdict::Delivered => "delivered",
            Verdict::RetryAfter(_) => "pending",
            Verdict::Failed => "failed",
        }
    }
}

/// Does this attempt deserve another?
pub fn retryable(attempt: &Attempt) -> bool {
    match attempt {
        Attempt::Answered { status, .. } => *status == 429 || (500..=599).contains(status),
        Attempt::TimedOut | Attempt::ConnectionFailed => true,
        Attempt::Refused => false,
    }
}

impl Policy {
    /// The wait after the `made`-th attempt failed (made ≥ 1), before jitter:
    /// min(cap, base · 2^(made-1)).
    pub fn ceiling(&self, made: u32) -> Duration {
        let doublings = made.saturating_sub(1).min(40);
        self.base
            .checked_mul(1u32 << doublings.min(31))
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The verdict on attempt number `made` (1 for the first) that ended as
    /// `attempt`; `unit` is a uniform random draw in [0, 1) for the jitter.
    pub fn verdict(&self, made: u32, attempt: &Attempt, unit: f64) -> Verdict {
        if let Attempt::Answered { status, .. } = attempt {
            if (200..=299).contains(status) {
                return Verdict::Delivered;
            }
        }
        if !retryable(attempt) || made >= self.max_attempts {
            return Verdict::Failed;
        }
        let jitter = self.ceiling(made).mul_f64(unit.clamp(0.0, 1.0));
        let floor = match attempt {
            Attempt::Answered {
                retry_after: Some(d), ..
            } => (*d).min(MAX_RETRY_AFTER),
            _ => Duration::ZERO,
        };
        Verdict::RetryAfter(jitter.max(floor))
    }
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), against `now` in unix seconds. A date
/// in the past is no wait; anything else unreadable is ignored.
pub fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            v.parse::<u64>()
                .unwrap_or(u64::MAX)
                .min(MAX_RETRY_AFTER.as_secs()),
        ));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// An IMF-fixdate (RFC 9110 §5.6.7), the form every current server sends, as
/// unix seconds.
fn parse_http_date(v: &str) -> Option<i64> {
    // "Wed, 21 Oct 2015 07:28:00 GMT"
    let rest = v.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        max_attempts: 4,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(5),
    };

    fn answered(status: u16) -> Attempt {
        Attempt::Answered {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn what_is_retried() {
        for s in [500, 502, 503, 504, 599, 429] {
            assert!(retryable(&answered(s)), "{s}");
        }
        for s in [200, 301, 302, 400, 401, 404, 410, 422] {
            assert!(!retryable(&answered(s)), "{s}");
        }
        assert!(retryable(&Attempt::TimedOut));
        assert!(retryable(&Attempt::ConnectionFailed));
        assert!(!retryable(&Attempt::Refused));
    }

    #[test]
    fn verdicts() {
        assert_eq!(P.verdict(1, &answered(204), 0.5), Verdict::Delivered);
        assert_eq!(P.verdict(4, &answered(200), 0.5), Verdict::Delivered);
        assert_eq!(P.verdict(1, &answered(404), 0.5), Verdict::Failed);
        assert_eq!(P.verdict(1, &Attempt::Refused, 0.5), Verdict::Failed);
        assert_eq!(
            P.verdict(1, &answered(500), 0.5),
            Verdict::RetryAfter(Duration::from_millis(500))
        );
        // The last attempt fails for good.
        assert_eq!(P.verdict(4, &answered(500), 0.5), Verdict::Failed);
        assert_eq!(P.verdict(4, &Attempt::TimedOut, 0.5), Verdict::Failed);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let ceilings: Vec<u64> = (1..=6).map(|n| P.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 5, 5, 5]);
        assert_eq!(P.ceiling(1000), P.cap);
        for n in 1..4 {
            let Verdict::RetryAfter(low) = P.verdict(n, &Attempt::TimedOut, 0.0) else {
                panic!()
            };
            let Verdict::RetryAfter(high) = P.verdict(n, &Attempt::TimedOut, 0.999_999) else {
                panic!()
            };
            assert_eq!(low, Duration::ZERO);
            assert!(high <= P.ceiling(n) && high > P.ceiling(n).mul_f64(0.99));
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let a = Attempt::Answered {
            status: 429,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(P.verdict(1, &a, 0.1), Verdict::RetryAfter(Duration::from_secs(3)));
        let huge = Attempt::Answered {
            status: 503,
            retry_after: Some(Duration::from_secs(10_000_000)),
        };
        assert_eq!(P.verdict(1, &huge, 0.1), Verdict::RetryAfter(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_values() {
        let now = 1_445_412_400; // 2015-10-21 07:26:40 UTC
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2015, 10, 21), 16_729);
    }
}
