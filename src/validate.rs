//! Checks shared by the stages' configuration types (`validate` methods):
//! each names the offending key, so a bad configuration file gets one clear line.

/// `value` is finite and within `lo..=hi`.
pub fn range(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), String> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(format!("{key} = {value} is out of range (must be a number from {lo} to {hi})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_and_out_of_range_values_are_named() {
        assert!(range("a.b", 1.0, 0.0, 2.0).is_ok());
        for v in [f64::NAN, f64::INFINITY, -1.0, 3.0] {
            assert!(range("a.b", v, 0.0, 2.0).unwrap_err().starts_with("a.b = "));
        }
    }
}
