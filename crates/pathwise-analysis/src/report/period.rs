//! Report periods: the whole UTC day, Monday-to-Sunday week or calendar month that ended last.
//! A scheduled report runs once its period has ended and covers exactly that period, so two
//! servers, or a rerun, write the same report.

use pathwise_store::Window;

const MINUTE_NS: i64 = 60_000_000_000;
const DAY_NS: i64 = 1440 * MINUTE_NS;

/// How long a report looks back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(format!("unknown period {other:?} (day, week or month)")),
        }
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month and day of a day number (days since 1970-01-01; Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl Period {
    /// The start (Unix ns) of the period that holds `ns`.
    fn start_of(self, ns: i64) -> i64 {
        let day = ns.div_euclid(DAY_NS);
        let first_day = match self {
            Period::Day => day,
            // 1970-01-01 was a Thursday: Monday is 3 days before.
            Period::Week => day - (day + 3).rem_euclid(7),
            Period::Month => {
                let (year, month, _) = civil_from_days(day);
                days_from_civil(year, month, 1)
            }
        };
        first_day * DAY_NS
    }

    /// The whole period that ended last, as of `now_ns`: yesterday, last week, last month.
    ///
    /// ```
    /// use pathwise_analysis::report::Period;
    /// // Wednesday 2026-12-09 15:00 UTC.
    /// let now = 1_796_828_400_000_000_000;
    /// let week = Period::Week.last_whole(now);
    /// assert_eq!(week.since_ns, 1_795_996_800_000_000_000); // Monday 2026-11-30
    /// assert_eq!(week.until_ns, 1_796_601_600_000_000_000); // Monday 2026-12-07
    /// ```
    pub fn last_whole(self, now_ns: i64) -> Window {
        let until = self.start_of(now_ns);
        Window {
            since_ns: self.start_of(until - 1),
            until_ns: until,
        }
    }

    /// The title of its report: "Daily report", "Weekly report", "Monthly report".
    pub fn title(self) -> &'static str {
        match self {
            Period::Day => "Daily report",
            Period::Week => "Weekly report",
            Period::Month => "Monthly report",
        }
    }

    /// `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix ns of a UTC date and hour.
    fn at(year: i64, month: i64, day: i64, hour: i64) -> i64 {
        days_from_civil(year, month, day) * DAY_NS + hour * 60 * MINUTE_NS
    }

    #[test]
    fn periods_are_the_whole_ones_that_ended_last() {
        let now = at(2026, 12, 9, 15); // a Wednesday
        assert_eq!(
            Period::Day.last_whole(now),
            Window {
                since_ns: at(2026, 12, 8, 0),
                until_ns: at(2026, 12, 9, 0)
            }
        );
        assert_eq!(
            Period::Week.last_whole(now),
            Window {
                since_ns: at(2026, 11, 30, 0),
                until_ns: at(2026, 12, 7, 0)
            }
        );
        assert_eq!(
            Period::Month.last_whole(now),
            Window {
                since_ns: at(2026, 11, 1, 0),
                until_ns: at(2026, 12, 1, 0)
            }
        );
        // Across a year and a leap February.
        assert_eq!(
            Period::Month.last_whole(at(2028, 3, 1, 0)),
            Window {
                since_ns: at(2028, 2, 1, 0),
                until_ns: at(2028, 3, 1, 0)
            }
        );
        assert_eq!(
            Period::Month.last_whole(at(2027, 1, 15, 3)).since_ns,
            at(2026, 12, 1, 0)
        );
        // Exactly at a boundary, the period that just ended.
        assert_eq!(
            Period::Day.last_whole(at(2026, 12, 9, 0)).since_ns,
            at(2026, 12, 8, 0)
        );
    }
}
