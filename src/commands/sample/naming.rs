//! Output file names of `hyv sample`: `<YYYY-mm-dd-HH:MM:SS>_seed<seed>_<prompt>.mp4`, as the
//! reference's `sample_video.py` names them (UTC; the prompt's first 100 characters with
//! `/` removed).

use std::time::{SystemTime, UNIX_EPOCH};

/// The file stem for a video of `prompt` sampled with `seed` at `time`.
pub fn video_stem(time: SystemTime, seed: u64, prompt: &str) -> String {
    let prompt: String = prompt
        .chars()
        .filter(|c| *c != '/' && *c != '\0')
        .take(100)
        .collect();
    format!("{}_seed{seed}_{}", timestamp(time), prompt.trim())
}

/// `YYYY-mm-dd-HH:MM:SS` in UTC.
fn timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_follow_the_reference_pattern() {
        // 2026-11-24 21:05:09 UTC.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_554_309);
        assert_eq!(
            video_stem(t, 42, "a cat/dog on a mat "),
            "2026-11-24-21:05:09_seed42_a catdog on a mat"
        );
        let long = "x".repeat(150);
        assert_eq!(
            video_stem(t, 1, &long).len(),
            "2026-11-24-21:05:09_seed1_".len() + 100
        );
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
