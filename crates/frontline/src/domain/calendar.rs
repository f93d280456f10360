//! Business time: how much of a span falls in working hours, and when a
//! given amount of working time from now runs out.
//!
//! A calendar has a time zone, periods per weekday in local time (several a
//! day; one whose end is not after its start runs overnight into the next
//! day) and holidays (local dates on which no period starts). Instants are
//! milliseconds since the epoch, UTC. Working periods are turned into UTC
//! intervals day by day in the zone, so a day with a daylight-saving change
//! has as many real hours as the clock says: 00:00-04:00 on the spring-forward
//! day in New York is three hours long, on the fall-back day five.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::DomainError;

const DAY_MS: i64 = 86_400_000;
/// Due instants further than this are "never" (a calendar with almost no
/// working time would otherwise make us search for ever).
const MAX_SEARCH_DAYS: i64 = 3 * 366;

/// One working period in local time: `day` 0 = Monday .. 6 = Sunday;
/// minutes after local midnight. `end <= start` runs overnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub day: u32,
    pub start: u32,
    pub end: u32,
}

/// As sent and stored: `{"day": "mon", "start": "09:00", "end": "17:00"}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodSpec {
    /// mon, tue, wed, thu, fri, sat, sun.
    pub day: String,
    /// Local time `HH:MM`.
    pub start: String,
    /// Local time `HH:MM`; not after `start` means overnight (`24:00` is midnight).
    pub end: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_hhmm(field: &'static str, s: &str) -> Result<u32, DomainError> {
    let bad = || DomainError::invalid(field, "times are HH:MM, 00:00 to 24:00");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Period {
    pub fn parse(spec: &PeriodSpec) -> Result<Self, DomainError> {
        let day = DAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(spec.day.trim()))
            .ok_or_else(|| DomainError::invalid("periods", "day must be mon..sun"))?;
        let start = parse_hhmm("periods", &spec.start)?;
        let end = parse_hhmm("periods", &spec.end)?;
        if start == 1440 {
            return Err(DomainError::invalid(
                "periods",
                "a period cannot start at 24:00",
            ));
        }
        if start == end {
            return Err(DomainError::invalid(
                "periods",
                "a period needs a length (use 00:00-24:00 for a whole day)",
            ));
        }
        Ok(Self {
            day: day as u32,
            start,
            end,
        })
    }

    pub fn spec(&self) -> PeriodSpec {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        PeriodSpec {
            day: DAYS[self.day as usize].to_owned(),
            start: hm(self.start),
            end: hm(self.end),
        }
    }

    /// Length in local minutes (overnight periods wrap).
    fn local_minutes(&self) -> u32 {
        if self.end > self.start {
            self.end - self.start
        } else {
            1440 - self.start + self.end
        }
    }
}

/// Working hours in a time zone, with holidays.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Per weekday (Monday first), periods sorted by start.
    periods: [Vec<Period>; 7],
    holidays: BTreeSet<NaiveDate>,
}

/// The instant a local time names. A time skipped by a clock change (the
/// spring-forward gap) names the first instant after the gap; a repeated
/// one (fall back) names its first occurrence.
fn local_to_utc(tz: &Tz, local: NaiveDateTime) -> i64 {
    let mut t = local;
    // Gaps are at most a few hours; step a minute at a time out of one.
    for _ in 0..(4 * 60) {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(d) => return d.timestamp_millis(),
            LocalResult::Ambiguous(a, _) => return a.timestamp_millis(),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    // No zone has a gap this long; fall back to reading it as UTC.
    local.and_utc().timestamp_millis()
}

impl Calendar {
    /// A calendar from a zone name (IANA, e.g. `Europe/Berlin`), periods and
    /// holidays (`YYYY-MM-DD`).
    pub fn new(
        timezone: &str,
        periods: &[Period],
        holidays: &[NaiveDate],
    ) -> Result<Self, DomainError> {
        let tz: Tz = timezone.trim().parse().map_err(|_| {
            DomainError::invalid(
                "timezone",
                "must be an IANA time zone such as Europe/Berlin",
            )
        })?;
        if periods.is_empty() {
            return Err(DomainError::invalid(
                "periods",
                "give at least one working period",
            ));
        }
        if periods.len() > 70 {
            return Err(DomainError::invalid("periods", "70 periods at most"));
        }
        let mut by_day: [Vec<Period>; 7] = Default::default();
        for p in periods {
            by_day[p.day as usize % 7].push(*p);
        }
        for d in &mut by_day {
            d.sort_by_key(|p| p.start);
        }
        Ok(Self {
            tz,
            periods: by_day,
            holidays: holidays.iter().copied().collect(),
        })
    }

    pub fn parse_holidays(list: &[String]) -> Result<Vec<NaiveDate>, DomainError> {
        if list.len() > 1000 {
            return Err(DomainError::invalid("holidays", "1000 holidays at most"));
        }
        list.iter()
            .map(|s| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| DomainError::invalid("holidays", "dates are YYYY-MM-DD"))
            })
            .collect()
    }

    pub fn timezone(&self) -> &str {
        self.tz.name()
    }

    fn local_date(&self, at: i64) -> NaiveDate {
        self.tz
            .timestamp_millis_opt(at)
            .single()
            .map(|d| d.date_naive())
            .unwrap_or_else(|| chrono::DateTime::UNIX_EPOCH.date_naive())
    }

    /// The UTC intervals of the periods that start on this local date,
    /// in order of start.
    fn intervals_of(&self, date: NaiveDate) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let wd = date.weekday().num_days_from_monday() as usize;
        self.periods[wd]
            .iter()
            .map(|p| {
                let start = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(p.start));
                let end = start + Duration::minutes(i64::from(p.local_minutes()));
                (local_to_utc(&self.tz, start), local_to_utc(&self.tz, end))
            })
            .filter(|(s, e)| e > s)
            .collect()
    }

    /// Working intervals, in order of start, of the periods starting on
    /// local dates from the day before `from` on (an overnight period of
    /// the day before may still run).
    fn walk(&self, from: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = self.local_date(from) - Duration::days(1);
        (0..=MAX_SEARCH_DAYS + 1).flat_map(move |i| self.intervals_of(first + Duration::days(i)))
    }

    /// Working milliseconds in `[from, to)`. Overlapping periods count once.
    pub fn business_ms(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let last = self.local_date(to);
        let first = self.local_date(from) - Duration::days(1);
        let mut covered = from;
        let mut total = 0;
        let mut date = first;
        while date <= last {
            for (s, e) in self.intervals_of(date) {
                let s = s.max(covered);
                let e = e.min(to);
                if e > s {
                    total += e - s;
                    covered = e;
                }
            }
            date += Duration::days(1);
        }
        total
    }

    /// The first instant at which `amount` working milliseconds have passed
    /// since `from`; None if that is more than three years away.
    pub fn add_business(&self, from: i64, amount: i64) -> Option<i64> {
        if amount <= 0 {
            return Some(from);
        }
        let horizon = from + MAX_SEARCH_DAYS * DAY_MS;
        let mut left = amount;
        let mut covered = from;
        for (s, e) in self.walk(from) {
            if s > horizon {
                return None;
            }
            let s = s.max(covered);
            if e <= s {
                continue;
            }
            if e - s >= left {
                return Some(s + left);
            }
            left -= e - s;
            covered = e;
        }
        None
    }
}

/// Business time under an optional calendar: without one, every hour counts.
pub fn business_ms(cal: Option<&Calendar>, from: i64, to: i64) -> i64 {
    match cal {
        Some(c) => c.business_ms(from, to),
        None => (to - from).max(0),
    }
}

/// When `amount` business ms from `from` have passed, under an optional calendar.
pub fn add_business(cal: Option<&Calendar>, from: i64, amount: i64) -> Option<i64> {
    match cal {
        Some(c) => c.add_business(from, amount),
        None => Some(from + amount.max(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(day: &str, start: &str, end: &str) -> Period {
        Period::parse(&PeriodSpec {
            day: day.into(),
            start: start.into(),
            end: end.into(),
        })
        .unwrap()
    }

    fn weekdays(start: &str, end: &str) -> Vec<Period> {
        ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| p(d, start, end))
            .collect()
    }

    fn at(tz: &str, s: &str) -> i64 {
        let tz: Tz = tz.parse().unwrap();
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&local)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    const H: i64 = 3_600_000;

    #[test]
    fn office_hours_count_only_inside_periods() {
        let c = Calendar::new("Europe/Berlin", &weekdays("09:00", "17:00"), &[]).unwrap();
        // Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
        let from = at("Europe/Berlin", "2026-11-27 16:00");
        let to = at("Europe/Berlin", "2026-11-30 10:00");
        assert_eq!(c.business_ms(from, to), 2 * H);
        // Four business hours from Friday 15:00 end Monday 11:00.
        let due = c.add_business(at("Europe/Berlin", "2026-11-27 15:00"), 4 * H);
        assert_eq!(due, Some(at("Europe/Berlin", "2026-11-30 11:00")));
        // Starting outside hours, the clock starts at the next opening.
        let due = c.add_business(at("Europe/Berlin", "2026-11-28 12:00"), H);
        assert_eq!(due, Some(at("Europe/Berlin", "2026-11-30 10:00")));
    }

    #[test]
    fn several_periods_a_day_and_lunch() {
        let mut periods = weekdays("09:00", "12:00");
        periods.extend(weekdays("13:00", "17:30"));
        let c = Calendar::new("UTC", &periods, &[]).unwrap();
        let from = at("UTC", "2026-12-01 11:00");
        assert_eq!(
            c.add_business(from, 2 * H),
            Some(at("UTC", "2026-12-01 14:00"))
        );
        assert_eq!(
            c.business_ms(at("UTC", "2026-12-01 00:00"), at("UTC", "2026-12-02 00:00")),
            7 * H + H / 2
        );
    }

    #[test]
    fn holidays_have_no_working_time() {
        let xmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
        let c = Calendar::new("Europe/London", &weekdays("09:00", "17:00"), &[xmas]).unwrap();
        // Thursday 24th 16:00 + 2h: Friday is a holiday, so Monday 28th 10:00.
        let due = c.add_business(at("Europe/London", "2026-12-24 16:00"), 2 * H);
        assert_eq!(due, Some(at("Europe/London", "2026-12-28 10:00")));
        assert_eq!(
            c.business_ms(
                at("Europe/London", "2026-12-25 00:00"),
                at("Europe/London", "2026-12-26 00:00")
            ),
            0
        );
    }

    #[test]
    fn overnight_periods_run_into_the_next_day() {
        // A night desk: Monday 22:00 to Tuesday 06:00.
        let c = Calendar::new("Asia/Tehran", &[p("mon", "22:00", "06:00")], &[]).unwrap();
        let mon = at("Asia/Tehran", "2026-11-30 21:00");
        let tue = at("Asia/Tehran", "2026-12-01 12:00");
        assert_eq!(c.business_ms(mon, tue), 8 * H);
        // From Tuesday 03:00 (inside Monday's period): three hours left of it.
        let from = at("Asia/Tehran", "2026-12-01 03:00");
        assert_eq!(
            c.add_business(from, 3 * H),
            Some(at("Asia/Tehran", "2026-12-01 06:00"))
        );
        // The fourth hour is next Monday night.
        assert_eq!(
            c.add_business(from, 4 * H),
            Some(at("Asia/Tehran", "2026-12-07 23:00"))
        );
    }

    #[test]
    fn daylight_saving_days_have_their_real_length() {
        let every_day: Vec<Period> = DAYS.iter().map(|d| p(d, "00:00", "04:00")).collect();
        let c = Calendar::new("America/New_York", &every_day, &[]).unwrap();
        // 2026-03-08: clocks go from 02:00 to 03:00.
        let day = |d: &str| {
            c.business_ms(
                at("America/New_York", &format!("{d} 00:00")),
                at("America/New_York", &format!("{d} 12:00")),
            )
        };
        assert_eq!(day("2026-03-08"), 3 * H);
        // 2026-11-01: clocks go from 02:00 back to 01:00.
        assert_eq!(day("2026-11-01"), 5 * H);
        assert_eq!(day("2026-11-02"), 4 * H);
        // A period starting in the gap starts when the gap ends.
        let gap = Calendar::new("America/New_York", &[p("sun", "02:30", "05:00")], &[]).unwrap();
        let sunday = at("America/New_York", "2026-03-08 00:00");
        assert_eq!(
            gap.add_business(sunday, 1),
            Some(at("America/New_York", "2026-03-08 03:00") + 1)
        );
    }

    #[test]
    fn no_calendar_counts_every_hour_and_bad_input_is_refused() {
        assert_eq!(business_ms(None, 0, 5 * H), 5 * H);
        assert_eq!(add_business(None, 10, H), Some(10 + H));
        assert!(Calendar::new("Mars/Olympus", &weekdays("09:00", "17:00"), &[]).is_err());
        assert!(Calendar::new("UTC", &[], &[]).is_err());
        for (s, e) in [
            ("9:00", "17:00"),
            ("09:00", "24:30"),
            ("24:00", "01:00"),
            ("10:00", "10:00"),
        ] {
            assert!(
                Period::parse(&PeriodSpec {
                    day: "mon".into(),
                    start: s.into(),
                    end: e.into()
                })
                .is_err(),
                "{s}-{e}"
            );
        }
        assert_eq!(p("fri", "18:00", "24:00").spec().end, "24:00");
    }

    fn calendars() -> Vec<Calendar> {
        let mut split = weekdays("08:00", "12:00");
        split.extend(weekdays("11:00", "18:00")); // overlapping on purpose
        split.push(p("sat", "20:00", "02:00"));
        vec![
            Calendar::new("Europe/Berlin", &weekdays("09:00", "17:00"), &[]).unwrap(),
            Calendar::new(
                "America/New_York",
                &split,
                &[NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()],
            )
            .unwrap(),
            Calendar::new(
                "Australia/Lord_Howe",
                &DAYS
                    .iter()
                    .map(|d| p(d, "01:00", "03:00"))
                    .collect::<Vec<_>>(),
                &[],
            )
            .unwrap(),
        ]
    }

    // 2026-01-01 to 2027-06-01: both DST changes of every zone above.
    const T0: i64 = 1_767_225_600_000;
    const SPAN: i64 = 517 * DAY_MS;

    proptest! {
        #[test]
        fn business_time_adds_up(which in 0usize..3, a in 0..SPAN, b in 0..SPAN, c in 0..SPAN) {
            let cal = &calendars()[which];
            let mut v = [T0 + a, T0 + b, T0 + c];
            v.sort_unstable();
            let [a, b, c] = v;
            let ab = cal.business_ms(a, b);
            prop_assert!(ab <= b - a);
            prop_assert_eq!(ab + cal.business_ms(b, c), cal.business_ms(a, c));
        }

        #[test]
        fn the_due_instant_is_exactly_that_much_business_time_later(
            which in 0usize..3, a in 0..SPAN, amount in 1i64..(30 * DAY_MS)
        ) {
            let cal = &calendars()[which];
            let from = T0 + a;
            let due = cal.add_business(from, amount).expect("due within three years");
            prop_assert_eq!(cal.business_ms(from, due), amount);
            // ...and not a millisecond later than needed.
            prop_assert!(cal.business_ms(from, due - 1) < amount);
        }
    }
}
